// The inventory block of CONTRACT §9 and `replaces` on workloads and tasks: defaults as pinned, bad
// values refused at load with their path.
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";

const base = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com" }],
  workloads: [{ name: "w", issuer: "gh", subject: "repo:acme/web:*" }],
  tasks: [{ name: "t", provider: "jwt", audience: "x" }],
  policies: ["policies/*.cedar"],
};
const files = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, files, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("inventory config", () => {
  it("fills the pinned defaults", () => {
    const { config } = resolveConfig({ ...base, inventory: {} }, files, "x");
    expect(config.inventory).toEqual({
      accounts: [],
      ownerTagKeys: ["owner"],
      staleAfterDays: 90,
      reviewValidDays: 90,
      snapshotsKept: 90,
      brokerPrincipals: [],
    });
  });

  it("takes replaces on workloads and on both kinds of task", () => {
    const user = "arn:aws:iam::111122223333:user/ci-deployer";
    const { config } = resolveConfig(
      {
        ...base,
        workloads: [{ ...base.workloads[0], replaces: [user] }],
        tasks: [
          { ...base.tasks[0], replaces: ["arn:aws:iam::111122223333:role/old"] },
          { name: "d", provider: "aws-sts", roleArn: "arn:aws:iam::111122223333:role/d", replaces: [user] },
        ],
      },
      files,
      "x",
    );
    expect(config.workloads[0]?.replaces).toEqual([user]);
    expect(config.tasks.map((t) => ("replaces" in t ? t.replaces : undefined))).toEqual([
      ["arn:aws:iam::111122223333:role/old"],
      [user],
    ]);
  });

  it("takes replaces on a postgres task too (a shared database password's IAM user, say)", () => {
    const user = "arn:aws:iam::111122223333:user/reports-batch";
    const { config } = resolveConfig(
      {
        ...base,
        databases: [
          {
            name: "db",
            host: "127.0.0.1",
            port: 5432,
            database: "reports",
            tls: "disable",
            admin: { urlEnv: "PG" },
          },
        ],
        tasks: [
          { name: "p", provider: "postgres", database: "db", memberOf: ["reporting_read"], replaces: [user] },
        ],
      },
      files,
      "x",
    );
    expect(config.tasks.map((t) => ("replaces" in t ? t.replaces : undefined))).toEqual([[user]]);
  });

  it("refuses a replaces entry that is not an IAM user or role ARN", () => {
    expect(problems({ ...base, workloads: [{ ...base.workloads[0], replaces: ["ci-deployer"] }] })).toEqual([
      expect.stringMatching(/^workloads\[0\]\.replaces\[0\]: must be an IAM user or role ARN/),
    ]);
  });

  it("refuses a bad account id, a duplicate account and a role in another account", () => {
    const p = problems({
      ...base,
      inventory: {
        accounts: [
          { accountId: "1234" },
          { accountId: "111122223333", roleArn: "arn:aws:iam::444455556666:role/inv" },
          { accountId: "111122223333" },
        ],
      },
    });
    expect(p).toEqual([
      expect.stringMatching(/^inventory\.accounts\[0\]\.accountId: must be a 12-digit AWS account id/),
      expect.stringMatching(/^inventory\.accounts\[1\]\.roleArn: must be a role in that account/),
      expect.stringMatching(/^inventory\.accounts\[2\]\.accountId: duplicate account 111122223333/),
    ]);
  });
});
