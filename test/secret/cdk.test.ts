// The construct for secret tasks (CONTRACT §15): /token may read and describe the named secrets, revoke and
// the sweep may describe and rotate those rotated after use, the inventory may list secrets and read their
// resource policies, KMS Decrypt only on a key a task names (through Secrets Manager); cdk-nag stays clean.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerInventoryRole } from "../../lib/constructs/broker-inventory-role.ts";
import { type BrokerFunctionName, CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { deployConfig, writeConfig } from "../constructs/support.ts";

const DATADOG = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-AbCdEf";
const LEGACY = "arn:aws:secretsmanager:us-east-1:111122223333:secret:legacy/db-password";
const KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

const secretConfig = () => {
  const base = deployConfig();
  return {
    ...base,
    tasks: [
      ...(base["tasks"] as unknown[]),
      {
        name: "datadog-key",
        provider: "secret",
        secretArn: DATADOG,
        jsonKey: "api_key",
        env: "DD_API_KEY",
        rotateAfterUse: true,
        kmsKeyArn: KEY,
      },
      { name: "legacy-password", provider: "secret", secretArn: LEGACY },
    ],
    inventory: { accounts: [] },
  };
};

const NO_BUNDLING = { "aws:cdk:bundling-stacks": [] };

describe("CredentialBroker with secret tasks", () => {
  let outdir: string;
  let broker: CredentialBroker;
  let template: Template;

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-secret-"));
    const app = new App({ outdir, context: NO_BUNDLING });
    const stack = new Stack(app, "Broker", { env: { account: "111122223333", region: "us-east-1" } });
    broker = new CredentialBroker(stack, "Broker", { configPath: writeConfig(secretConfig()) });
    new BrokerInventoryRole(stack, "MemberRole", {
      brokerInventoryRoleArn: "arn:aws:iam::111122223333:role/inventory",
      readSecrets: true,
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    template = Template.fromStack(stack);
  }, 120_000);
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  const statements = (fn: { role?: unknown }) => {
    const roleId = Stack.of(broker).getLogicalId(
      (fn.role as { node: { defaultChild: never } }).node.defaultChild,
    );
    const policies = template.findResources("AWS::IAM::Policy");
    return Object.values(policies)
      .filter((p) => JSON.stringify(p["Properties"]["Roles"]).includes(roleId))
      .flatMap((p) => p["Properties"]["PolicyDocument"]["Statement"] as Record<string, unknown>[]);
  };
  const of = (name: BrokerFunctionName | "inventory") =>
    statements(name === "inventory" ? broker.inventory!.function : broker.functions[name]);
  const bySid = (name: BrokerFunctionName | "inventory") =>
    Object.fromEntries(of(name).map((s) => [s["Sid"], s]));

  it("passes cdk-nag's AwsSolutions pack", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("lets /token read and describe exactly the named secrets, a partial ARN by its suffix pattern", () => {
    expect(bySid("token")["ReadTaskSecrets"]).toMatchObject({
      Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
      Resource: [DATADOG, `${LEGACY}-??????`],
    });
    expect(JSON.stringify(of("token"))).not.toContain("secretsmanager:RotateSecret");
  });

  it("lets revoke and the sweep rotate only the secrets of rotateAfterUse tasks", () => {
    for (const name of ["revoke", "sweep"] as const) {
      expect(bySid(name)["RotateTaskSecrets"]).toMatchObject({
        Action: ["secretsmanager:DescribeSecret", "secretsmanager:RotateSecret"],
        Resource: DATADOG,
      });
      expect(JSON.stringify(of(name))).not.toContain("secretsmanager:GetSecretValue");
    }
    for (const name of ["introspect", "metadata", "approvals"] as const)
      expect(JSON.stringify(of(name))).not.toContain("secretsmanager");
  });

  it("grants kms:Decrypt on the named key to /token only, through Secrets Manager", () => {
    expect(bySid("token")["DecryptTaskSecretsuseast1"]).toMatchObject({
      Action: "kms:Decrypt",
      Resource: KEY,
      Condition: { StringEquals: { "kms:ViaService": "secretsmanager.us-east-1.amazonaws.com" } },
    });
    for (const name of ["revoke", "sweep", "introspect"] as const)
      expect(JSON.stringify(of(name))).not.toContain(KEY);
  });

  it("lets the inventory list secrets and read their resource policies, never their values", () => {
    const inv = bySid("inventory");
    expect(inv["ListSecrets"]).toMatchObject({ Action: "secretsmanager:ListSecrets", Resource: "*" });
    expect(inv["ReadSecretPolicies"]).toMatchObject({ Action: "secretsmanager:GetResourcePolicy" });
    expect(JSON.stringify(of("inventory"))).not.toContain("GetSecretValue");
    const member = Object.values(template.findResources("AWS::IAM::Role")).find((r) =>
      JSON.stringify(r).includes("credbroker-inventory-read"),
    )!;
    expect(JSON.stringify(member)).toContain("secretsmanager:ListSecrets");
    expect(JSON.stringify(member)).not.toContain("GetSecretValue");
  });
});

describe("CredentialBroker without secret tasks", () => {
  it("grants no Secrets Manager action at all", () => {
    const app = new App({ context: NO_BUNDLING });
    const stack = new Stack(app, "S", { env: { account: "111122223333", region: "us-east-1" } });
    new CredentialBroker(stack, "Broker", {
      configPath: writeConfig({ ...deployConfig(), inventory: { accounts: [] } }),
    });
    expect(JSON.stringify(Template.fromStack(stack).toJSON())).not.toContain("secretsmanager");
  });
});

describe("the demo config's secret task", () => {
  it("synthesises cdk-nag clean, with /token reading the demo's secret", () => {
    const outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-demo-"));
    try {
      const app = new App({ outdir, context: NO_BUNDLING });
      const stack = new Stack(app, "Demo", { env: { account: "111122223333", region: "us-east-1" } });
      const broker = new CredentialBroker(stack, "Broker", { configPath: "examples/broker.config.yaml" });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      app.synth();
      const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
        pluginReports: { conclusion: string }[];
      };
      expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
      expect(broker.resolvedConfig.config.tasks.some((t) => t.provider === "secret")).toBe(true);
      expect(JSON.stringify(Template.fromStack(stack).toJSON())).toContain(
        "arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-AbCdEf",
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
