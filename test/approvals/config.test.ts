// The approval settings of the config (CONTRACT §10): what is accepted and what is a config error.
import { describe, expect, it } from "vitest";
import { type ConfigError, validateConfig } from "../../lib/config/resolve.ts";

const base = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [
    { name: "ci", issuer: "https://ci.test" },
    { name: "corp", issuer: "https://idp.corp.test" },
  ],
  workloads: [{ name: "agent", issuer: "ci", subject: "agent:*" }],
  tasks: [
    { name: "rotate", provider: "jwt", audience: "db", approval: { approvals: 2, expiresInSeconds: 900 } },
  ],
  approvals: { issuers: ["corp"] },
  policies: ["p.cedar"],
};

function problems(patch: Record<string, unknown>): string {
  try {
    validateConfig({ ...base, ...patch }, "c.yaml");
    return "";
  } catch (err) {
    return (err as ConfigError).problems.join("\n");
  }
}

describe("approval config", () => {
  it("accepts approver issuers, a webhook and a task approval, with defaults", () => {
    const config = validateConfig(
      {
        ...base,
        tasks: [
          { name: "rotate", provider: "aws-sts", roleArn: "arn:aws:iam::111122223333:role/r", approval: {} },
        ],
      },
      "c.yaml",
    );
    expect(config.tasks[0]?.approval).toEqual({ approvals: 1, expiresInSeconds: 900 });
    expect(config.approvals).toEqual({ issuers: ["corp"], notify: {} });
  });

  it("accepts an approval on every task kind", () => {
    const config = validateConfig(
      {
        ...base,
        githubApps: [{ name: "app", appId: "1", privateKey: { file: "k.pem" } }],
        tasks: [
          {
            name: "docs",
            provider: "github",
            app: "app",
            owner: "acme",
            repositories: ["web"],
            permissions: { contents: "write" },
            approval: { approvals: 2 },
          },
        ],
      },
      "c.yaml",
    );
    expect(config.tasks[0]?.approval).toEqual({ approvals: 2, expiresInSeconds: 900 });
  });

  it.each([
    [{ approvals: { issuers: ["ci"] } }, /approvals\.issuers\[0\]: issuer ci identifies workloads/],
    [{ approvals: { issuers: ["nope"] } }, /approvals\.issuers\[0\]: no issuer named nope/],
    [{ approvals: undefined }, /tasks\[0\]\.approval: needs approvals\.issuers/],
    [
      { tasks: [{ name: "rotate", provider: "jwt", audience: "db", approval: { approvals: 6 } }] },
      /tasks\[0\]\.approval\.approvals/,
    ],
    [
      { tasks: [{ name: "rotate", provider: "jwt", audience: "db", approval: { expiresInSeconds: 30 } }] },
      /tasks\[0\]\.approval\.expiresInSeconds/,
    ],
    [
      {
        tasks: [{ name: "rotate", provider: "jwt", audience: "db", approval: { expiresInSeconds: 86_401 } }],
      },
      /expiresInSeconds/,
    ],
    [
      { approvals: { issuers: ["corp"], notify: { webhookUrl: "http://hooks.example.com/x" } } },
      /webhookUrl: must be https/,
    ],
    [{ approvals: { issuers: ["corp"], extra: 1 } }, /approvals/],
  ])("rejects %j", (patch, expected) => {
    expect(problems(patch)).toMatch(expected);
  });

  it.each([
    "https://hooks.slack.com/services/T/B/X",
    "http://127.0.0.1:9999/hook",
    "http://localhost:1/h",
    "http://[::1]:2/h",
  ])("accepts the webhook %s", (webhookUrl) => {
    expect(problems({ approvals: { issuers: ["corp"], notify: { webhookUrl } } })).toBe("");
  });
});

describe("approval policies", () => {
  const resolve = async (text: string) => {
    const { resolveConfig } = await import("../../lib/config/resolve.ts");
    return resolveConfig(base, [{ file: "p.cedar", text }], "c.yaml");
  };

  it("validates approve policies strictly against the Approver entity and the approve context", async () => {
    await expect(
      resolve(
        `@id("a") permit (principal, action == Action::"approve", resource) when { principal.issuer == "corp" && context.owner != "" };`,
      ),
    ).resolves.toBeDefined();
    await expect(
      resolve(
        `@id("a") permit (principal, action == Action::"approve", resource) when { context.hourUtc > 8 && context.sourceIp.isLoopback() };`,
      ),
    ).resolves.toBeDefined();
    await expect(
      resolve(
        `@id("a") permit (principal, action == Action::"approve", resource) when { context.durationSeconds > 8 };`,
      ),
    ).rejects.toThrow(/p\.cedar:1:\d+: .*durationSeconds/);
    await expect(
      resolve(
        `@id("a") permit (principal, action == Action::"approve", resource) when { principal.subject == "x" };`,
      ),
    ).rejects.toThrow(/subject/);
  });

  it("names the fix when a policy with an open action reads what only issue has", async () => {
    await expect(
      resolve(`@id("a") forbid (principal, action, resource) when { context.durationSeconds > 3600 };`),
    ).rejects.toThrow(/scope it with action == Action::"issue"/);
    // What every action shares is no such thing (CONTRACT §17): a global network rule validates.
    await expect(
      resolve(`@id("a") forbid (principal, action, resource) when { context.sourceIp.isLoopback() };`),
    ).resolves.toBeDefined();
  });
});
