// The construct for postgres tasks: only the token, revoke and sweep functions run in the given VPC and
// may read the databases' admin secrets; synth refuses what is for dev only; cdk-nag stays clean.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { FlowLogDestination, SecurityGroup, SubnetType, Vpc } from "aws-cdk-lib/aws-ec2";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/resolve.ts";
import { type BrokerFunctionName, CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { deployConfig, writeConfig } from "./support.ts";

const SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/reports-AbCdEf";
const database = {
  name: "reports-db",
  host: "reports.cluster-abc.us-east-1.rds.amazonaws.com",
  database: "reports",
  admin: { secretArn: SECRET },
};
const postgresConfig = (db: Record<string, unknown> = {}) => {
  const base = deployConfig();
  return {
    ...base,
    tasks: [
      ...(base["tasks"] as unknown[]),
      { name: "read-reports-db", provider: "postgres", database: "reports-db", memberOf: ["reporting_read"] },
    ],
    databases: [{ ...database, ...db }],
  };
};

const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

describe("CredentialBroker with postgres tasks", () => {
  let outdir: string;
  let app: App;
  let broker: CredentialBroker;
  let template: Template;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-pg-"));
    app = new App({ outdir, context: NO_BUNDLING });
    const network = new Stack(app, "Network", { env: { account: "111122223333", region: "us-east-1" } });
    const vpc = new Vpc(network, "Vpc", {
      maxAzs: 2,
      natGateways: 1,
      flowLogs: { all: { destination: FlowLogDestination.toCloudWatchLogs() } },
      subnetConfiguration: [
        { name: "public", subnetType: SubnetType.PUBLIC },
        { name: "private", subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      ],
    });
    const stack = new Stack(app, "Broker", { env: { account: "111122223333", region: "us-east-1" } });
    const group = new SecurityGroup(stack, "BrokerDb", { vpc, description: "credbroker to the databases" });
    broker = new CredentialBroker(stack, "Broker", {
      configPath: writeConfig(postgresConfig()),
      vpc,
      vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [group],
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    template = Template.fromStack(stack);
  }, 120_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const fnProps = (name: BrokerFunctionName) => {
    const id = Stack.of(broker).getLogicalId(broker.functions[name].node.defaultChild as never);
    return (template.toJSON()["Resources"] as Record<string, { Properties: Record<string, unknown> }>)[id]!
      .Properties;
  };
  const policyText = (name: BrokerFunctionName) => {
    const role = broker.functions[name].role!;
    const policies = template.findResources("AWS::IAM::Policy");
    return JSON.stringify(
      Object.values(policies).filter((p) =>
        JSON.stringify(p["Properties"]["Roles"]).includes(
          Stack.of(broker).getLogicalId(role.node.defaultChild as never),
        ),
      ),
    );
  };

  it("passes cdk-nag's AwsSolutions pack", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string; violations?: unknown[] }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("runs only the token, revoke and sweep functions in the VPC, with the given security group", () => {
    for (const name of ["token", "revoke", "sweep"] as const)
      expect(fnProps(name)["VpcConfig"]).toMatchObject({ SecurityGroupIds: [expect.anything()] });
    for (const name of ["introspect", "metadata"] as const)
      expect(fnProps(name)).not.toHaveProperty("VpcConfig");
    // With a role of its own, CDK adds no VPC managed policy: the construct grants the interface actions.
    for (const name of ["token", "revoke", "sweep"] as const)
      expect(policyText(name)).toContain("ec2:CreateNetworkInterface");
    expect(policyText("introspect")).not.toContain("ec2:");
  });

  it("lets only the token, revoke and sweep functions read the admin secret, by its ARN", () => {
    for (const name of ["token", "revoke", "sweep"] as const) {
      expect(policyText(name)).toContain("secretsmanager:GetSecretValue");
      expect(policyText(name)).toContain(SECRET);
    }
    for (const name of ["introspect", "metadata"] as const)
      expect(policyText(name)).not.toContain("secretsmanager");
    expect(broker.databaseSecretArns).toEqual([SECRET]);
  });
});

describe("CredentialBroker refuses dev-only database settings at synth", () => {
  const build = (config: Record<string, unknown>) =>
    new CredentialBroker(new Stack(new App({ context: NO_BUNDLING }), "S"), "Broker", {
      configPath: writeConfig(config),
    });

  it("refuses tls: disable", () => {
    expect(() => build(postgresConfig({ tls: "disable" }))).toThrow(ConfigError);
    expect(() => build(postgresConfig({ tls: "disable" }))).toThrow(
      /databases\.0\.tls: disable is for dev and tests only/,
    );
  });

  it("refuses an admin URL from the environment", () => {
    expect(() => build(postgresConfig({ admin: { urlEnv: "PG_URL" } }))).toThrow(
      /databases\.0\.admin\.urlEnv: is for dev and tests only; use secretArn/,
    );
  });

  it("refuses vpcSubnets without a vpc", () => {
    expect(
      () =>
        new CredentialBroker(new Stack(new App({ context: NO_BUNDLING }), "S"), "Broker", {
          configPath: writeConfig(postgresConfig()),
          vpcSubnets: { subnetType: SubnetType.PRIVATE_WITH_EGRESS },
        }),
    ).toThrow(/vpcSubnets and securityGroups need vpc/);
  });
});
