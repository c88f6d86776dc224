// The config loader: zod errors name the path and the rule, policies validate strictly, the JSON Schema
// shipped for editors is the one generated from the zod schema.
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonSchemaDocument } from "../../lib/config/json-schema.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import { loadConfigFileSync } from "../../lib/config/load-sync.ts";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { compilePolicies } from "../../lib/core/policy/policy-set.ts";
import { runCli } from "../client/run-cli.ts";

const minimal = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com" }],
  workloads: [{ name: "w", issuer: "gh", subject: "repo:acme/web:*" }],
  tasks: [{ name: "t", provider: "jwt", audience: "x" }],
  policies: ["policies/*.cedar"],
};
const okPolicy = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];

function problems(raw: unknown, files = okPolicy): string[] {
  try {
    resolveConfig(raw, files, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("config validation", () => {
  it("accepts a minimal config and fills the defaults", () => {
    const resolved = resolveConfig(minimal, okPolicy, "x");
    expect(resolved.config.issuers[0]).toMatchObject({
      algorithms: ["RS256"],
      maxTokenAgeSeconds: 900,
      clockToleranceSeconds: 30,
    });
    expect(resolved.config.auditRetentionDays).toBe(400);
    expect(resolved.version).toMatch(/^[0-9a-f]{16}$/);
  });

  it("rejects unknown keys, naming the path", () => {
    expect(problems({ ...minimal, tasks: [{ ...minimal.tasks[0], scope: "x" }] })).toEqual([
      expect.stringMatching(/^tasks\[0\]: Unrecognized key: "scope"/),
    ]);
  });

  it.each([
    [
      { issuers: [{ name: "gh", issuer: "https://i", algorithms: ["HS256"] }] },
      /issuers\[0\]\.algorithms\[0\]: must be one of .*never none or HS/,
    ],
    [{ issuers: [{ name: "gh", issuer: "https://i", algorithms: ["none"] }] }, /algorithms\[0\]/],
    [
      { workloads: [{ name: "w", issuer: "nobody", subject: "s" }] },
      /workloads\[0\]\.issuer: no issuer named nobody/,
    ],
    [
      { tasks: [{ name: "t", provider: "aws-sts", roleArn: "arn:aws:iam::1:role/x" }] },
      /tasks\[0\]\.roleArn: must be an IAM role ARN/,
    ],
    [
      {
        tasks: [
          {
            name: "t",
            provider: "aws-sts",
            roleArn: "arn:aws:iam::111122223333:role/x",
            maxDurationSeconds: 60,
          },
        ],
      },
      /tasks\[0\]\.maxDurationSeconds/,
    ],
    [
      { tasks: [{ name: "t", provider: "jwt", audience: "a", maxDurationSeconds: 7200 }] },
      /tasks\[0\]\.maxDurationSeconds/,
    ],
    [{ tasks: [{ name: "t", provider: "ftp" }] }, /tasks\[0\]/],
    [{ version: 2 }, /^version:/],
    [
      {
        issuers: [
          { name: "gh", issuer: "https://token.actions.githubusercontent.com" },
          { name: "gh2", issuer: "https://token.actions.githubusercontent.com" },
        ],
      },
      /issuers\[1\]\.issuer: duplicate issuer URL/,
    ],
  ])("rejects %j", (patch, expected) => {
    expect(problems({ ...minimal, ...patch }).join("\n")).toMatch(expected);
  });

  it("rejects a policy that does not validate against the schema, naming file and line", () => {
    const bad = [
      {
        file: "policies/bad.cedar",
        text: `// first line\n@id("bad")\npermit (principal, action, resource)\nwhen { principal.team == "x" };\n`,
      },
    ];
    expect(problems(minimal, bad)).toEqual([expect.stringMatching(/^policies\/bad\.cedar:4:\d+: .*team/)]);
  });

  it("rejects a policy with a syntax error", () => {
    expect(problems(minimal, [{ file: "p.cedar", text: "permit (principal, action, resource" }])[0]).toMatch(
      /^p\.cedar/,
    );
  });

  it("rejects an exception without a valid @expires and duplicate ids", () => {
    const files = [
      { file: "a.cedar", text: `@id("x") @exception("SEC-1") permit (principal, action, resource);` },
      {
        file: "b.cedar",
        text: `@id("y") @exception("SEC-2") @expires("next week") permit (principal, action, resource);\n@id("y") permit (principal, action, resource);`,
      },
    ];
    const found = problems(minimal, files).join("\n");
    expect(found).toMatch(/a\.cedar:1: @exception needs @expires/);
    expect(found).toMatch(/b\.cedar:1: @exception needs @expires/);
    expect(found).toMatch(/duplicate policy id "y"/);
  });
});

describe("time-reading policies", () => {
  it.each([
    ["context.hourUtc >= 1", true],
    ['context["hourUtc"] >= 1', true],
    ["context . weekdayUtc >= 1", true],
    ['if context.purpose == "" then context.hourUtc < 9 else true', true],
    ['context["purpose"] != ""', false],
    // Cedar's own parse decides: a string or a comment that mentions a time attribute reads nothing.
    ['context.purpose != "context.hourUtc"', false],
    ['// context.now is not read here\n context.purpose != ""', false],
  ])("marks a policy whose condition is %s as time-dependent: %s", (condition, readsTime) => {
    const text = `@id("p") permit (principal, action == Action::"issue", resource) when { ${condition} };`;
    expect(compilePolicies([{ file: "p.cedar", text }]).policies["p"]?.readsTime).toBe(readsTime);
  });
});

describe("config files", () => {
  it("loads the demo config with its policies", async () => {
    const resolved = await loadConfigFile("examples/broker.config.yaml");
    expect(resolved.config.tasks.map((t) => t.name)).toContain("read-reports");
    expect(Object.keys(resolved.policies.policies)).toContain("legacy-cron-reads-reports");
    expect(resolved.policies.policies["legacy-cron-reads-reports"]).toMatchObject({
      exception: "SEC-1234",
      expiresAt: Date.parse("2027-03-31T00:00:00Z"),
    });
  });

  it("loads JSON as well as YAML, and gives the same version for the same content", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-config-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "p.cedar"), okPolicy[0]!.text);
    await writeFile(join(dir, "broker.config.json"), JSON.stringify(minimal));
    await writeFile(
      join(dir, "broker.config.yaml"),
      `version: 1\naudience: credbroker\nissuerUrl: https://broker.test\nissuers:\n  - {name: gh, issuer: "https://token.actions.githubusercontent.com"}\nworkloads:\n  - {name: w, issuer: gh, subject: "repo:acme/web:*"}\ntasks:\n  - {name: t, provider: jwt, audience: x}\npolicies: ["policies/*.cedar"]\n`,
    );
    const a = await loadConfigFile(join(dir, "broker.config.json"));
    const b = await loadConfigFile(join(dir, "broker.config.yaml"));
    expect(a.version).toBe(b.version);
  });

  it("fails clearly when no policy file matches", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-config-"));
    await writeFile(join(dir, "c.json"), JSON.stringify(minimal));
    await expect(loadConfigFile(join(dir, "c.json"))).rejects.toThrow(
      /policies\[0\]: no file matches policies\/\*\.cedar/,
    );
  });

  it("refuses a policies entry that matches no file even when the others do, naming the entry", async () => {
    // A typo in the entry holding the forbids must not leave a config of permits only.
    const dir = await mkdtemp(join(tmpdir(), "cb-config-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "permits.cedar"), okPolicy[0]!.text);
    await writeFile(
      join(dir, "policies", "forbids.cedar"),
      `@id("f") forbid (principal, action, resource) when { context.purpose == "x" };`,
    );
    const config = {
      ...minimal,
      policies: ["policies/permits.cedar", "policies/forbid.cedar", "policies/deny-*.cedar"],
    };
    await writeFile(join(dir, "c.json"), JSON.stringify(config));
    const err = (await loadConfigFile(join(dir, "c.json")).catch((e: unknown) => e)) as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.problems).toEqual([
      "policies[1]: no file matches policies/forbid.cedar",
      "policies[2]: no file matches policies/deny-*.cedar",
    ]);
    // cdk synth loads through the synchronous loader: it refuses the same config.
    expect(() => loadConfigFileSync(join(dir, "c.json"))).toThrow(/policies\[1\]: no file matches/);
    // `credbroker policy validate`, as CI runs it, fails with the entry named.
    const run = await runCli(["policy", "validate", "--config", join(dir, "c.json")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("policies[1]: no file matches policies/forbid.cedar");
    expect(run.stdout).not.toContain("valid");

    // Fixed, the same config loads with both files.
    await writeFile(
      join(dir, "c.json"),
      JSON.stringify({ ...minimal, policies: ["policies/permits.cedar", "policies/forbids.cedar"] }),
    );
    const resolved = await loadConfigFile(join(dir, "c.json"));
    expect(Object.keys(resolved.policies.policies).sort()).toEqual(["f", "p"]);
  });

  it("ships the JSON Schema generated from the zod schema", async () => {
    const shipped = JSON.parse(await readFile("schema/broker.config.schema.json", "utf8"));
    expect(shipped).toEqual(jsonSchemaDocument());
    expect(shipped.additionalProperties).toBe(false);
  });
});
