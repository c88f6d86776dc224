// github tasks and githubApps (CONTRACT §8.1): what GitHub would refuse, or a key that must not be deployed,
// is a config error naming the path — at load, at `cdk synth` and in `credbroker policy validate`.
import { App, Stack } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { runCli } from "../client/run-cli.ts";
import { deployConfig, writeConfig } from "../constructs/support.ts";

const KEY_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const app = { name: "acme-ci", appId: "123456", privateKey: { kmsKeyArn: KEY_ARN } };
const task = {
  name: "push-docs",
  provider: "github",
  app: "acme-ci",
  owner: "acme",
  repositories: ["${claim:repository}", "docs"],
  permissions: { contents: "write", pull_requests: "read" },
};
const config = (t: Record<string, unknown> = {}, apps: unknown[] = [app]) => ({
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com" }],
  tasks: [{ ...task, ...t }],
  githubApps: apps,
  policies: ["p/*.cedar"],
});
const policy = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, policy, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("github config", () => {
  it("accepts a github task and fills the defaults", () => {
    const resolved = resolveConfig(config(), policy, "x");
    expect(resolved.config.githubApps[0]).toMatchObject({ apiUrl: "https://api.github.com" });
    expect(resolved.config.tasks[0]).toMatchObject({ maxDurationSeconds: 3600, sensitivity: "medium" });
  });

  it.each([
    ["an unknown App", { app: "nobody" }, /^tasks\[0\]\.app: no githubApps entry named nobody/],
    ["an empty repository list", { repositories: [] }, /^tasks\[0\]\.repositories: name at least one/],
    [
      "more than 500 repositories",
      { repositories: Array.from({ length: 501 }, (_, i) => `r${i}`) },
      /^tasks\[0\]\.repositories: GitHub allows at most 500/,
    ],
    [
      "a permission GitHub does not have",
      { permissions: { contents: "read", push: "write" } },
      /^tasks\[0\]\.permissions: Unrecognized key: "push"/,
    ],
    [
      "a level GitHub does not have for that permission",
      { permissions: { workflows: "read" } },
      /^tasks\[0\]\.permissions\.workflows: /,
    ],
    ["no permission at all", { permissions: {} }, /^tasks\[0\]\.permissions: name at least one permission/],
    [
      "a wildcard repository",
      { repositories: ["web-*"] },
      /^tasks\[0\]\.repositories\[0\]: must not contain a wildcard/,
    ],
    [
      "a repository of another owner",
      { repositories: ["other/web"] },
      /^tasks\[0\]\.repositories\[0\]: names owner other, but the task's owner is acme/,
    ],
    [
      "a placeholder the broker does not know",
      { repositories: ["${env:HOME}"] },
      /^tasks\[0\]\.repositories\[0\]: has a placeholder other than/,
    ],
    [
      "a path",
      { repositories: ["acme/web/x"] },
      /^tasks\[0\]\.repositories\[0\]: must be "name" or "owner\/name"/,
    ],
    ["a duration over an hour", { maxDurationSeconds: 7200 }, /^tasks\[0\]\.maxDurationSeconds: /],
  ])("refuses %s, naming the path", (_what, override, expected) => {
    expect(problems(config(override))).toEqual([expect.stringMatching(expected)]);
  });

  it.each([
    [{ ...app, privateKey: {} }, /^githubApps\[0\]\.privateKey: give exactly one of kmsKeyArn or file/],
    [
      { ...app, privateKey: { kmsKeyArn: KEY_ARN, file: "k.pem" } },
      /^githubApps\[0\]\.privateKey: give exactly one/,
    ],
    [
      { ...app, privateKey: { kmsKeyArn: "alias/github" } },
      /^githubApps\[0\]\.privateKey\.kmsKeyArn: must be a KMS key ARN/,
    ],
    [{ ...app, apiUrl: "http://ghe.example/api/v3" }, /^githubApps\[0\]\.apiUrl: must be https/],
    [{ ...app, appId: "my app" }, /^githubApps\[0\]\.appId: must be the App ID/],
  ])("refuses a bad githubApps entry, naming the path (%#)", (badApp, expected) => {
    expect(problems(config({}, [badApp]))).toEqual([expect.stringMatching(expected)]);
  });

  it("takes a Client ID as appId and a loopback stand-in as apiUrl", () => {
    expect(
      problems(config({}, [{ ...app, appId: "Iv23liABCdef", apiUrl: "http://127.0.0.1:4600/" }])),
    ).toEqual([]);
  });

  it("refuses an App key given as a PEM file at cdk synth, and accepts a KMS key", () => {
    const build = (apps: unknown[]) =>
      new CredentialBroker(new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "S"), "B", {
        configPath: writeConfig(deployConfig({ tasks: [task], githubApps: apps })),
      });
    let error: unknown;
    try {
      build([{ ...app, privateKey: { file: "keys/app.pem" } }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(/^githubApps\[0\]\.privateKey\.file: a PEM key is for dev and tests only/),
    ]);
    expect(() => build([app])).not.toThrow();
  });

  it("policy validate names the path of a bad github task", async () => {
    const path = writeConfig(
      deployConfig({ tasks: [{ ...task, permissions: { contents: "own" } }], githubApps: [app] }),
    );
    const result = await runCli(["policy", "validate", "--config", path]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/tasks\[0\]\.permissions\.contents: /);
  });
});
