// The inventory's deployed shape, on a real synth with cdk-nag: a daily sync function with IAM read
// access only, AssumeRole on the configured inventory roles only, the broker's roles as its principals,
// an alarm on a failed sync; and BrokerInventoryRole for member accounts.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoInventoryStore } from "../../lib/aws/inventory-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import { BrokerInventoryRole } from "../../lib/constructs/index.ts";
import { startLocalDynamo } from "../../lib/local/dynalite.ts";
import { startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { authorizationDetails, credentialReportCsv, credentialReportRows } from "../inventory/scenario.ts";
import { deployConfig, type TemplateResources, writeConfig } from "./support.ts";

const MEMBER_ROLE = "arn:aws:iam::444455556666:role/credbroker-inventory";
let outdir: string;
let stack: CredbrokerStack;
let resources: TemplateResources;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-inv-"));
  const app = new App({ outdir });
  const config = deployConfig({
    inventory: {
      accounts: [{ accountId: "111122223333" }, { accountId: "444455556666", roleArn: MEMBER_ROLE }],
    },
  });
  stack = new CredbrokerStack(app, "Credbroker", { broker: { configPath: writeConfig(config) } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  resources = Template.fromStack(stack).toJSON()["Resources"] as TemplateResources;
}, 240_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const inventoryStatements = () => {
  const fn = stack.broker.inventory!.function;
  const roleId = stack.getLogicalId(fn.role!.node.defaultChild as never);
  const policy = Object.values(resources).find(
    (r) =>
      r.Type === "AWS::IAM::Policy" &&
      JSON.stringify(r.Properties["Roles"]) === JSON.stringify([{ Ref: roleId }]),
  )!;
  return (policy.Properties["PolicyDocument"] as { Statement: Record<string, unknown>[] }).Statement;
};

describe("CredentialBroker with an inventory", () => {
  it("passes cdk-nag, acknowledging only the IAM reads that take no resource", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
    const acks = stack.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
          .flatMap((m) =>
            Object.keys(m.data as object).map(
              (id) => `${c.node.path.replace("Credbroker/Broker/", "")} ${id}`,
            ),
          ),
      );
    expect(acks.filter((a) => a.startsWith("inventory"))).toEqual([
      "inventoryRole AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    ]);
  });

  it("gives the function the three IAM reads, AssumeRole on the inventory roles, and its table items", () => {
    const statements = inventoryStatements().filter((s) => typeof s["Sid"] === "string");
    const bySid = Object.fromEntries(statements.map((s) => [s["Sid"], s]));
    expect(bySid["ReadIam"]).toMatchObject({
      Action: [
        "iam:GenerateCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:GetCredentialReport",
      ],
      Resource: "*",
    });
    expect(bySid["AssumeInventoryRoles"]).toMatchObject({ Action: "sts:AssumeRole", Resource: MEMBER_ROLE });
    expect(bySid["InventoryStore"]?.["Action"]).toEqual([
      "dynamodb:DeleteItem",
      "dynamodb:GetItem",
      "dynamodb:PutItem",
      "dynamodb:Query",
    ]);
    expect(Object.keys(bySid).sort()).toEqual([
      "AssumeInventoryRoles",
      "FirstGrants",
      "InventoryStore",
      "ReadIam",
    ]);
    // Nothing else: no IAM write, no KMS, no sts:AssumeRole on task roles.
    const actions = inventoryStatements().flatMap((s) => [s["Action"]].flat());
    expect(actions.filter((a) => /^(kms|iam:Put|iam:Delete)/.test(String(a)))).toEqual([]);
  });

  it("runs daily and tells the function the broker's own roles", () => {
    const rule = resources[stack.getLogicalId(stack.broker.inventory!.rule.node.defaultChild as never)]!;
    expect(rule.Properties["ScheduleExpression"]).toBe("rate(1 day)");
    const fn = resources[stack.getLogicalId(stack.broker.inventory!.function.node.defaultChild as never)]!;
    const env = (fn.Properties["Environment"] as { Variables: Record<string, unknown> }).Variables;
    const principals = JSON.stringify(env["CREDBROKER_BROKER_PRINCIPALS"]);
    for (const name of ["token", "sweep", "revoke"])
      expect(principals).toContain(
        stack.getLogicalId(stack.broker.functions[name as "token"].role!.node.defaultChild as never),
      );
  });

  it("alarms on a failed daily sync", () => {
    const alarm = resources[stack.getLogicalId(stack.broker.inventory!.alarm.node.defaultChild as never)]!;
    expect(alarm.Properties).toMatchObject({
      MetricName: "Errors",
      Namespace: "AWS/Lambda",
      Period: 86_400,
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("bundles the inventory handler with its IAM reads", () => {
    const fn = resources[stack.getLogicalId(stack.broker.inventory!.function.node.defaultChild as never)]!;
    const key = String((fn.Properties["Code"] as { S3Key: string }).S3Key).replace(/\.zip$/, "");
    const bundle = readFileSync(join(outdir, `asset.${key}`, "index.mjs"), "utf8");
    expect(bundle).toContain("GetAccountAuthorizationDetails");
    expect(existsSync(join(outdir, `asset.${key}`, "credbroker.config.json"))).toBe(true);
  });
});

describe("the bundled inventory function", () => {
  it("syncs every configured account, with no call its role does not allow", async () => {
    const dynamo = await startLocalDynamo();
    const memberRow = credentialReportRows()[3]!;
    const iam = iamInventoryActions(
      {
        "111122223333": { details: authorizationDetails(), credentialReportCsv: credentialReportCsv() },
        "444455556666": {
          details: {
            UserDetailList: [
              {
                Path: "/",
                UserName: "legacy",
                Arn: "arn:aws:iam::444455556666:user/legacy",
                CreateDate: "2024-01-01T00:00:00Z",
              },
            ],
            GroupDetailList: [],
            RoleDetailList: [],
            Policies: [],
          },
          credentialReportCsv: credentialReportCsv([
            { ...memberRow, user: "legacy", arn: "arn:aws:iam::444455556666:user/legacy" },
          ]),
        },
      },
      { pollsUntilComplete: 0 },
    );
    const aws = await startAwsQueryServer({ extraActions: iam.actions });
    try {
      await ensureTable(dynamo.client, "inventory-bundle");
      const fn = resources[stack.getLogicalId(stack.broker.inventory!.function.node.defaultChild as never)]!;
      const key = String((fn.Properties["Code"] as { S3Key: string }).S3Key).replace(/\.zip$/, "");
      const dir = join(outdir, `asset.${key}`);
      const script =
        "const m = await import(process.env.ENTRY); process.stdout.write('\\nRESULT ' + JSON.stringify(await m.handler({})) + '\\n');";
      const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], {
        cwd: mkdtempSync(join(tmpdir(), "credbroker-lambda-cwd-")),
        env: {
          PATH: process.env["PATH"] ?? "",
          ENTRY: join(dir, "index.mjs"),
          LAMBDA_TASK_ROOT: dir,
          ...aws.env(),
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          CREDBROKER_TABLE: "inventory-bundle",
          CREDBROKER_CONFIG_BUNDLE: "credbroker.config.json",
          CREDBROKER_BROKER_PRINCIPALS: JSON.stringify(["arn:aws:iam::111122223333:role/credbroker-token"]),
        },
      });
      const result = JSON.parse(
        stdout
          .split("\n")
          .find((l) => l.startsWith("RESULT "))!
          .slice(7),
      );
      expect(result.map((s: { accountId: string }) => s.accountId)).toEqual(["111122223333", "444455556666"]);
      expect(result[1].counts["long-lived-keys"]).toBe(2);
      const store = new DynamoInventoryStore(dynamo.client, "inventory-bundle");
      expect((await store.listAccounts()).sort()).toEqual(["111122223333", "444455556666"]);
      // Every call is one the function's role allows (GetCallerIdentity needs no permission).
      const called = [...new Set(aws.calls.map((c) => `${c.service}:${c.action}`))].sort();
      expect(called).toEqual([
        "iam:GenerateCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:GetCredentialReport",
        "sts:AssumeRole",
        "sts:GetCallerIdentity",
      ]);
      expect(aws.callsTo("AssumeRole").map((c) => c.params["RoleArn"])).toEqual([MEMBER_ROLE]);
    } finally {
      await aws.close();
      await dynamo.close();
    }
  }, 60_000);
});

describe("BrokerInventoryRole", () => {
  it("trusts only the broker's inventory role, reads IAM only, and passes cdk-nag", () => {
    const app = new App();
    const member = new Stack(app, "Member", { env: { account: "444455556666", region: "eu-west-1" } });
    const inv = "arn:aws:iam::111122223333:role/Credbroker-BrokerinventoryRole";
    new BrokerInventoryRole(member, "Inventory", { brokerInventoryRoleArn: inv });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const role = Object.values(Template.fromStack(member).findResources("AWS::IAM::Role"))[0]!["Properties"];
    expect(role["RoleName"]).toBe("credbroker-inventory");
    expect(role["AssumeRolePolicyDocument"]["Statement"]).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: inv },
        Condition: { StringEquals: { "sts:RoleSessionName": "credbroker-inventory" } },
      },
    ]);
    expect(role["Policies"]).toEqual([
      {
        PolicyName: "credbroker-inventory-read",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "ReadIam",
              Effect: "Allow",
              Action: [
                "iam:GenerateCredentialReport",
                "iam:GetAccountAuthorizationDetails",
                "iam:GetCredentialReport",
              ],
              Resource: "*",
            },
          ],
        },
      },
    ]);
  });
});
