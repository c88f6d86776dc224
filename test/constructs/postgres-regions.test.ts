// A broker in three regions whose databases name the regions that reach them (CONTRACT §16,
// databases[].regions): each region's token, revoke and sweep functions get the VPC and the admin secrets
// of only the databases that list that region (or list none); a region named that runs no broker is
// refused at synth, naming the database and the region.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { SubnetType, Vpc } from "aws-cdk-lib/aws-ec2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/resolve.ts";
import { type BrokerFunctionName, CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import type { BrokerRegions } from "../../lib/constructs/regions.ts";
import { deployConfig, writeConfig } from "./support.ts";

const ACCOUNT = "111122223333";
const REGIONS: BrokerRegions = { primary: "us-east-1", replicas: ["us-east-2", "us-west-2"] };
const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };
const REPORTS_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:credbroker/reports-AbCdEf`;
const ORDERS_SECRET = `arn:aws:secretsmanager:us-east-2:${ACCOUNT}:secret:credbroker/orders-AbCdEf`;
const LEDGER_SECRET = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:credbroker/ledger-AbCdEf`;

const db = (name: string, secretArn: string, regions?: string[]) => ({
  name,
  host: `${name}.cluster-abc.us-east-1.rds.amazonaws.com`,
  database: name,
  admin: { secretArn },
  ...(regions ? { regions } : {}),
});
const pgConfig = (databases: Record<string, unknown>[]) => {
  const base = deployConfig();
  return {
    ...base,
    tasks: [
      ...(base["tasks"] as unknown[]),
      ...databases.map((d) => ({
        name: `read-${d["name"]}`,
        provider: "postgres",
        database: d["name"],
        memberOf: ["reporting_read"],
      })),
    ],
    databases,
  };
};

/** One stack per region, each with its own VPC, as a deployment in three regions builds them. */
function synthRegions(config: Record<string, unknown>, regions = REGIONS) {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), "credbroker-cdk-pg-regions-")),
    context: NO_BUNDLING,
  });
  const configPath = writeConfig(config);
  const brokers = new Map<string, CredentialBroker>();
  let primary: CredentialBroker | undefined;
  for (const region of [regions.primary, ...regions.replicas]) {
    const stack = new Stack(app, `Broker-${region}`, {
      env: { account: ACCOUNT, region },
      crossRegionReferences: true,
    });
    const vpc = new Vpc(stack, "Vpc", {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: "private", subnetType: SubnetType.PRIVATE_ISOLATED }],
    });
    const broker = new CredentialBroker(stack, "Broker", {
      configPath,
      regions,
      vpc,
      ...(primary ? { primaryBroker: primary } : {}),
    });
    primary ??= broker;
    brokers.set(region, broker);
  }
  return { app, brokers };
}

describe("CredentialBroker in three regions with regional databases", () => {
  let app: App;
  let brokers: Map<string, CredentialBroker>;
  const templates = new Map<string, Template>();

  beforeAll(() => {
    ({ app, brokers } = synthRegions(
      pgConfig([
        db("reports-db", REPORTS_SECRET, ["us-east-1"]),
        db("orders-db", ORDERS_SECRET, ["us-east-1", "us-east-2"]),
        db("ledger-db", LEDGER_SECRET),
      ]),
    ));
    for (const [region, broker] of brokers) templates.set(region, Template.fromStack(Stack.of(broker)));
  }, 300_000);
  afterAll(() => rmSync(app.outdir, { recursive: true, force: true }));

  const policyText = (region: string, name: BrokerFunctionName) => {
    const broker = brokers.get(region)!;
    const roleId = Stack.of(broker).getLogicalId(broker.functions[name].role!.node.defaultChild as never);
    const policies = templates.get(region)!.findResources("AWS::IAM::Policy");
    return JSON.stringify(
      Object.values(policies).filter((p) => JSON.stringify(p["Properties"]["Roles"]).includes(roleId)),
    );
  };

  it.each([
    ["us-east-1", [REPORTS_SECRET, ORDERS_SECRET, LEDGER_SECRET]],
    ["us-east-2", [ORDERS_SECRET, LEDGER_SECRET]],
    ["us-west-2", [LEDGER_SECRET]],
  ])(
    "lets the database functions in %s read the admin secrets of only the databases it reaches",
    (region, secrets) => {
      expect(brokers.get(region)!.databaseSecretArns).toEqual(secrets);
      for (const name of ["token", "revoke", "sweep"] as const) {
        const text = policyText(region, name);
        for (const secret of [REPORTS_SECRET, ORDERS_SECRET, LEDGER_SECRET])
          expect(text.includes(secret), `${region} ${name} ${secret}`).toBe(secrets.includes(secret));
      }
    },
  );
});

describe("CredentialBroker's VPC wiring follows the regions that reach the databases", () => {
  it("puts the database functions of a region that reaches no database outside the VPC, with no secret read", () => {
    const { app, brokers } = synthRegions(pgConfig([db("reports-db", REPORTS_SECRET, ["us-east-1"])]));
    try {
      for (const [region, broker] of brokers) {
        const template = Template.fromStack(Stack.of(broker));
        const resources = template.toJSON()["Resources"] as Record<
          string,
          { Properties: Record<string, unknown> }
        >;
        const reaches = region === "us-east-1";
        for (const name of ["token", "revoke", "sweep"] as const) {
          const id = Stack.of(broker).getLogicalId(broker.functions[name].node.defaultChild as never);
          expect("VpcConfig" in resources[id]!.Properties, `${region} ${name}`).toBe(reaches);
        }
        const policies = JSON.stringify(template.findResources("AWS::IAM::Policy"));
        expect(policies.includes("ec2:CreateNetworkInterface"), region).toBe(reaches);
        expect(policies.includes("ReadDatabaseAdminSecrets"), region).toBe(reaches);
        expect(policies.includes(REPORTS_SECRET), region).toBe(reaches);
      }
    } finally {
      rmSync(app.outdir, { recursive: true, force: true });
    }
  }, 300_000);
});

describe("CredentialBroker refuses a database that names a region the deployment does not run in", () => {
  const refusal = (databases: Record<string, unknown>[], regions: BrokerRegions = REGIONS) => {
    try {
      const { app } = synthRegions(pgConfig(databases), regions);
      rmSync(app.outdir, { recursive: true, force: true });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.join("\n");
      throw err;
    }
    return "";
  };

  it("names the database and the region", () => {
    expect(
      refusal([db("ledger-db", LEDGER_SECRET), db("reports-db", REPORTS_SECRET, ["us-east-1", "eu-west-1"])]),
    ).toMatch(
      /databases\.1\.regions: database reports-db names eu-west-1, where this deployment runs no broker \(its regions: us-east-1, us-east-2, us-west-2\)/,
    );
  });

  it("refuses the witness, which runs no broker", () => {
    expect(
      refusal([db("reports-db", REPORTS_SECRET, ["us-west-2"])], {
        primary: "us-east-1",
        replicas: ["us-east-2"],
        witness: "us-west-2",
      }),
    ).toMatch(/database reports-db names us-west-2, where this deployment runs no broker/);
  });

  it("refuses, in one region, a database that names only another", () => {
    const build = () =>
      new CredentialBroker(
        new Stack(new App({ context: NO_BUNDLING }), "S", { env: { account: ACCOUNT, region: "us-east-1" } }),
        "Broker",
        { configPath: writeConfig(pgConfig([db("reports-db", REPORTS_SECRET, ["eu-west-1"])])) },
      );
    expect(build).toThrow(/database reports-db names eu-west-1, where this deployment runs no broker/);
  });
});
