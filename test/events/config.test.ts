// The `events` section (CONTRACT §13): optional and strict, validated at load and by `policy validate` with
// the path named; a config without it loads as before. (Synth refuses a webhook secret from an environment
// variable: test/constructs/events.test.ts.)
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { runCli } from "../client/run-cli.ts";

const minimal = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [
    { name: "github", issuer: "https://token.actions.githubusercontent.com" },
    { name: "gitlab", issuer: "https://gitlab.com" },
    { name: "corp", issuer: "https://login.corp.test" },
  ],
  approvals: { issuers: ["corp"] },
  workloads: [{ name: "w", issuer: "github", subject: "repo:acme/web:*" }],
  tasks: [{ name: "t", provider: "jwt", audience: "x" }],
  policies: ["policies/*.cedar"],
};
const okPolicy = [
  { file: "p.cedar", text: `@id("p") permit (principal, action == Action::"issue", resource);` },
];
const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/github-webhook-AbCdEf";

function problems(events: unknown): string[] {
  try {
    resolveConfig({ ...minimal, events }, okPolicy, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("config: events", () => {
  it("is optional, and fills the findings defaults", () => {
    expect(resolveConfig(minimal, okPolicy, "x").config.events).toBeUndefined();
    const resolved = resolveConfig(
      {
        ...minimal,
        events: {
          github: { secret: { secretArn: SECRET_ARN }, issuers: ["github"] },
          gitlab: { secret: { env: "GITLAB_TOKEN" }, issuers: ["gitlab"] },
          findings: {},
        },
      },
      okPolicy,
      "x",
    );
    expect(resolved.config.events?.findings).toEqual({
      sources: ["aws.guardduty", "aws.securityhub"],
      minSeverity: 4,
      signal: "finding",
    });
  });

  it.each([
    [
      "an unknown key",
      { github: { secret: { env: "X" }, issuers: ["github"], extra: 1 } },
      /events\.github: Unrecognized key/,
    ],
    ["an unknown source", { azure: {} }, /events: Unrecognized key/],
    [
      "a secret that is neither an ARN nor a variable",
      { github: { secret: { value: "s3cret" }, issuers: ["github"] } },
      /events\.github\.secret: give \{ secretArn: ARN \} or \{ env: VAR \}/,
    ],
    [
      "a malformed secret ARN",
      { github: { secret: { secretArn: "arn:aws:s3:::bucket" }, issuers: ["github"] } },
      /events\.github\.secret/,
    ],
    ["no issuers", { github: { secret: { env: "X" }, issuers: [] } }, /events\.github\.issuers/],
    [
      "an issuer that does not exist",
      { github: { secret: { env: "X" }, issuers: ["gh"] } },
      /events\.github\.issuers\[0\]: no issuer named gh/,
    ],
    [
      "an approver issuer",
      { github: { secret: { env: "X" }, issuers: ["corp"] } },
      /events\.github\.issuers\[0\]: issuer corp identifies approvers/,
    ],
    [
      "one issuer under both CI systems",
      {
        github: { secret: { env: "X" }, issuers: ["github"] },
        gitlab: { secret: { env: "Y" }, issuers: ["github"] },
      },
      /events\.gitlab\.issuers\[0\]: issuer github is already listed under events\.github/,
    ],
    [
      "an unknown finding source",
      { findings: { sources: ["aws.inspector"] } },
      /events\.findings\.sources\[0\]/,
    ],
    ["a severity off the scale", { findings: { minSeverity: 11 } }, /events\.findings\.minSeverity/],
    ["a signal name policies cannot read", { findings: { signal: "Finding!" } }, /events\.findings\.signal/],
  ])("refuses %s, naming the path", (_, events, message) => {
    expect(problems(events).join("\n")).toMatch(message);
  });

  it("fails `credbroker policy validate` with the path named", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-events-config-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "p.cedar"), okPolicy[0]!.text);
    await writeFile(
      join(dir, "c.json"),
      JSON.stringify({ ...minimal, events: { github: { secret: { env: "X" }, issuers: ["nobody"] } } }),
    );
    const run = await runCli(["policy", "validate", "--config", join(dir, "c.json")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("events.github.issuers[0]: no issuer named nobody");
  });
});
