// The github provider on AWS: kms:Sign on each App key to /token only, a token key that /token may only
// encrypt with and only the revoke and sweep functions may decrypt with, always under a grant's encryption
// context; cdk-nag AwsSolutions clean.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import type { BrokerFunctionName } from "../../lib/constructs/credential-broker.ts";
import { deployConfig, type TemplateResources, writeConfig } from "./support.ts";

const APP_KEY = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
let stack: CredbrokerStack;
let resources: TemplateResources;
let outdir: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-gh-"));
  // Bundling skipped: the IAM shape does not depend on the code, and synth stays quick.
  const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
  const config = deployConfig({
    githubApps: [{ name: "acme-ci", appId: "123456", privateKey: { kmsKeyArn: APP_KEY } }],
    tasks: [
      {
        name: "push-docs",
        provider: "github",
        app: "acme-ci",
        owner: "acme",
        repositories: ["${claim:repository}"],
        permissions: { contents: "write" },
      },
    ],
  });
  stack = new CredbrokerStack(app, "Gh", { broker: { configPath: writeConfig(config) } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
  resources = Template.fromStack(stack).toJSON()["Resources"] as TemplateResources;
}, 120_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** Every KMS statement of a function's role: actions, resources (rendered) and conditions. */
function kmsStatements(name: BrokerFunctionName) {
  const roleId = stack.getLogicalId(stack.broker.functions[name].role!.node.defaultChild as never);
  const policy = Object.values(resources).find(
    (r) =>
      r.Type === "AWS::IAM::Policy" &&
      JSON.stringify(r.Properties["Roles"]) === JSON.stringify([{ Ref: roleId }]),
  )!;
  const tokenKeyId = stack.getLogicalId(stack.broker.tokenKey!.node.defaultChild as never);
  return (policy.Properties["PolicyDocument"] as { Statement: Record<string, unknown>[] }).Statement.filter(
    (s) => [s["Action"]].flat().some((a) => String(a).startsWith("kms:")),
  ).map((s) => ({
    actions: [s["Action"]].flat(),
    resources: [s["Resource"]]
      .flat()
      .map((r) =>
        JSON.stringify(r).includes(tokenKeyId) ? "tokenKey" : typeof r === "string" ? r : "other",
      ),
    conditions: s["Condition"],
  }));
}

const grantContext = {
  "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["credbroker-grant"] },
  Null: { "kms:EncryptionContext:credbroker-grant": "false" },
};

describe("CredentialBroker with github tasks", () => {
  it("passes cdk-nag AwsSolutions", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("lets only /token sign with the App key and seal tokens", () => {
    const token = kmsStatements("token");
    expect(token).toContainEqual({
      actions: ["kms:Sign"],
      resources: [APP_KEY],
      conditions: { StringEquals: { "kms:SigningAlgorithm": "RSASSA_PKCS1_V1_5_SHA_256" } },
    });
    expect(token).toContainEqual({
      actions: ["kms:Encrypt"],
      resources: ["tokenKey"],
      conditions: grantContext,
    });
    expect(token.flatMap((s) => s.actions)).not.toContain("kms:Decrypt");
  });

  it("lets only the revoke and sweep functions decrypt tokens, under a grant's context", () => {
    for (const fn of ["revoke", "sweep"] as const)
      expect(kmsStatements(fn)).toContainEqual({
        actions: ["kms:Decrypt"],
        resources: ["tokenKey"],
        conditions: grantContext,
      });
    for (const fn of ["introspect", "metadata"] as const)
      expect(kmsStatements(fn).flatMap((s) => s.actions)).not.toContain("kms:Decrypt");
    for (const fn of ["introspect", "metadata", "revoke", "sweep"] as const) {
      const statements = kmsStatements(fn);
      expect(statements.some((s) => s.resources.includes(APP_KEY))).toBe(false);
      expect(statements.flatMap((s) => s.actions)).not.toContain("kms:Encrypt");
    }
  });

  it("tells the token, revoke and sweep functions the token key, and rotates it", () => {
    const envOf = (name: BrokerFunctionName) => {
      const id = stack.getLogicalId(stack.broker.functions[name].node.defaultChild as never);
      return (resources[id]!.Properties["Environment"] as { Variables: Record<string, unknown> }).Variables;
    };
    for (const fn of ["token", "revoke", "sweep"] as const)
      expect(envOf(fn)["CREDBROKER_TOKEN_KEY_ARN"]).toBeDefined();
    for (const fn of ["introspect", "metadata"] as const)
      expect(envOf(fn)["CREDBROKER_TOKEN_KEY_ARN"]).toBeUndefined();
    const keyId = stack.getLogicalId(stack.broker.tokenKey!.node.defaultChild as never);
    expect(resources[keyId]!.Properties["EnableKeyRotation"]).toBe(true);
  });
});
