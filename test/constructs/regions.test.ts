// A broker in three regions (CONTRACT §16), on a real synth with cdk-nag: the primary's stack has the global
// table with multi-Region strong consistency and its replicas, and the multi-Region signing key; every
// region's stack has the functions, the API and the schedules, a replica of the key, and roles scoped to
// its own region's table and key; region sets MRSC cannot take are refused at synth with the reason.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credbrokerRegionStacks } from "../../lib/constructs/credbroker-region-stacks.ts";
import type { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import { CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { mrscProblems, regionsFromContext } from "../../lib/constructs/regions.ts";
import { deployConfig, roleStatements, type TemplateResources, writeConfig } from "./support.ts";

const ACCOUNT = "111122223333";
const REGIONS = { primary: "us-east-1", replicas: ["us-east-2", "us-west-2"] };
let outdir: string;
let stacks: CredbrokerStack[];
let templates: Template[];
let configPath: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-regions-"));
  const app = new App({ outdir });
  configPath = writeConfig(deployConfig());
  stacks = credbrokerRegionStacks(app, "Credbroker", {
    regions: REGIONS,
    account: ACCOUNT,
    broker: { configPath },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  templates = stacks.map((s) => Template.fromStack(s));
}, 600_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const resourcesOf = (t: Template) => t.toJSON()["Resources"] as TemplateResources;
const ofType = (t: Template, type: string) => Object.values(resourcesOf(t)).filter((r) => r.Type === type);

describe("CredentialBroker in three regions", () => {
  it("is a stack per region, the primary first, and passes cdk-nag", () => {
    expect(stacks.map((s) => [s.stackName, s.region])).toEqual([
      ["Credbroker-us-east-1", "us-east-1"],
      ["Credbroker-us-east-2", "us-east-2"],
      ["Credbroker-us-west-2", "us-west-2"],
    ]);
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("has one global table with strong consistency and a replica in every region, without TTL", () => {
    const [primary, ...replicas] = templates;
    const tables = ofType(primary!, "AWS::DynamoDB::GlobalTable");
    expect(tables).toHaveLength(1);
    const p = tables[0]!.Properties;
    expect(p["MultiRegionConsistency"]).toBe("STRONG");
    expect(p["TableName"]).toBe("credbroker");
    expect((p["Replicas"] as { Region: string }[]).map((r) => r.Region).sort()).toEqual([
      "us-east-1",
      "us-east-2",
      "us-west-2",
    ]);
    expect(p["TimeToLiveSpecification"]).toBeUndefined();
    expect((p["GlobalSecondaryIndexes"] as { IndexName: string }[]).map((i) => i.IndexName)).toEqual([
      "gsi1",
      "gsi2",
      "gsi3",
      "gsi4",
    ]);
    for (const t of replicas) {
      expect(ofType(t, "AWS::DynamoDB::GlobalTable")).toHaveLength(0);
      expect(ofType(t, "AWS::DynamoDB::Table")).toHaveLength(0);
    }
  });

  it("signs with one multi-Region key, replicated to the other regions", () => {
    const [primary, ...replicas] = templates;
    const keys = ofType(primary!, "AWS::KMS::Key");
    expect(keys).toHaveLength(1);
    expect(keys[0]!.Properties).toMatchObject({
      MultiRegion: true,
      KeySpec: "ECC_NIST_P256",
      KeyUsage: "SIGN_VERIFY",
    });
    for (const t of replicas) {
      const replicaKeys = ofType(t, "AWS::KMS::ReplicaKey");
      expect(replicaKeys).toHaveLength(1);
      // The primary key's ARN, read across regions.
      expect(JSON.stringify(replicaKeys[0]!.Properties["PrimaryKeyArn"])).toContain("Fn::GetAtt");
      expect(ofType(t, "AWS::KMS::Key")).toHaveLength(0);
    }
  });

  it("runs the functions, the API and the schedules in each region, the sweep under leases", () => {
    for (const [i, t] of templates.entries()) {
      const functions = ofType(t, "AWS::Lambda::Function").filter((f) =>
        JSON.stringify(f.Properties["Environment"] ?? {}).includes("CREDBROKER_TABLE"),
      );
      expect(functions).toHaveLength(6);
      expect(ofType(t, "AWS::ApiGatewayV2::Api")).toHaveLength(1);
      expect(ofType(t, "AWS::Events::Rule").length).toBeGreaterThanOrEqual(1);
      const sweep =
        resourcesOf(t)[
          stacks[i]!.getLogicalId(stacks[i]!.broker.functions.sweep.node.defaultChild as never)
        ]!;
      expect(sweep.Properties["Environment"]).toMatchObject({
        Variables: { CREDBROKER_SWEEP_LEASE_SECONDS: "120" },
      });
      // The replicas name the global table by its name; the primary by its own resource.
      if (i > 0)
        expect(sweep.Properties["Environment"]).toMatchObject({
          Variables: { CREDBROKER_TABLE: "credbroker" },
        });
    }
  });

  it("scopes each region's roles to that region's table replica and key", () => {
    for (const [i, s] of stacks.entries()) {
      const statements = roleStatements(s, resourcesOf(templates[i]!), "token");
      const grantStore = statements.find((st) => st.actions.includes("dynamodb:PutItem"))!;
      const region = s.region;
      if (i === 0) expect(grantStore.resources).toEqual(["AWS::DynamoDB::GlobalTable"]);
      else
        expect(grantStore.resources).toEqual([
          `arn:{"Ref":"AWS::Partition"}:dynamodb:${region}:${ACCOUNT}:table/credbroker`,
        ]);
      const sign = statements.find((st) => st.actions.includes("kms:Sign"))!;
      expect(sign.resources).toEqual([i === 0 ? "AWS::KMS::Key" : "AWS::KMS::ReplicaKey"]);
    }
  });
});

describe("regions MRSC cannot take", () => {
  it.each([
    [
      { primary: "us-east-1", replicas: ["us-east-2"] },
      "without a witness, MRSC takes exactly three replicas (the primary and two more); 2 given — or give a witness with one replica",
    ],
    [
      { primary: "us-east-1", replicas: ["us-east-2", "eu-west-1"] },
      "MRSC keeps all regions in one region set, but these span EU and US",
    ],
    [
      { primary: "us-east-1", replicas: ["us-east-2", "us-west-2"], witness: "us-west-1" },
      "with a witness, MRSC takes exactly two replicas (the primary and one more); 3 given",
    ],
    [
      { primary: "sa-east-1", replicas: ["us-east-2"], witness: "us-west-2" },
      "sa-east-1 is in no MRSC region set",
    ],
    [{ primary: "us-east-1", replicas: ["us-east-1", "us-west-2"] }, "a region is named twice"],
  ])("refuses %j", (regions, reason) => {
    expect(mrscProblems(regions).join("; ")).toContain(reason);
    const app = new App();
    expect(() => credbrokerRegionStacks(app, "X", { regions, broker: { configPath } })).toThrow(
      /^regions: DynamoDB multi-Region strong consistency cannot take this region set: /,
    );
  });

  it("takes two replicas and a witness, and -c regions=A,B -c witness=C", () => {
    expect(regionsFromContext("eu-west-1,eu-central-1", "eu-west-2")).toEqual({
      primary: "eu-west-1",
      replicas: ["eu-central-1"],
      witness: "eu-west-2",
    });
    expect(mrscProblems(regionsFromContext("eu-west-1,eu-central-1", "eu-west-2"))).toEqual([]);
  });

  it("refuses a replica's broker without the primary, a region-agnostic stack, and a stack in the witness", () => {
    const app = new App();
    const regions = { primary: "ap-northeast-1", replicas: ["ap-northeast-2"], witness: "ap-northeast-3" };
    const make = (env: { region?: string }) =>
      new CredentialBroker(new Stack(app, `S${Math.random().toString(36).slice(2)}`, { env }), "B", {
        configPath,
        regions,
      });
    expect(() => make({ region: "ap-northeast-2" })).toThrow(
      "regions: the broker in replica region ap-northeast-2 needs primaryBroker: its signing key replicates the primary's",
    );
    expect(() => make({})).toThrow(/needs a stack with an explicit region/);
    expect(() => make({ region: "ap-northeast-3" })).toThrow(/ap-northeast-3 is the witness/);
  });
});
