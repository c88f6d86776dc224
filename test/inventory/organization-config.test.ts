// `inventory.organization` (CONTRACT §16): optional, with its defaults; refused beside `accounts` and with
// a bad role or account; and the pure selection of what a run syncs.
import { describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import {
  boundedEach,
  memberRoleArn,
  runStatus,
  selectAccounts,
} from "../../lib/core/inventory/organization.ts";

const base = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com" }],
  tasks: [{ name: "t", provider: "jwt", audience: "x" }],
  policies: ["policies/*.cedar"],
};
const files = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];
const ORG = { roleArn: "arn:aws:iam::111122223333:role/org-list", memberRoleName: "credbroker-inventory" };

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, files, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("inventory.organization config", () => {
  it("fills its defaults, and a config without it loads as before", () => {
    const { config } = resolveConfig({ ...base, inventory: { organization: ORG } }, files, "x");
    expect(config.inventory?.organization).toEqual({ ...ORG, excludeAccounts: [], concurrency: 10 });
    expect(
      resolveConfig({ ...base, inventory: {} }, files, "x").config.inventory?.organization,
    ).toBeUndefined();
  });

  it("refuses accounts beside it, a role with a path as member role, and a bad excluded account", () => {
    expect(
      problems({
        ...base,
        inventory: {
          accounts: [{ accountId: "111122223333" }],
          organization: { ...ORG, memberRoleName: "path/role", excludeAccounts: ["12"] },
        },
      }),
    ).toEqual([
      expect.stringMatching(/^inventory\.organization\.memberRoleName: must be an IAM role name \(no path\)/),
      expect.stringMatching(
        /^inventory\.organization\.excludeAccounts\[0\]: must be a 12-digit AWS account id/,
      ),
      expect.stringMatching(/^inventory\.accounts: give either accounts or organization/),
    ]);
    expect(
      problems({ ...base, inventory: { accounts: [{ accountId: "111122223333" }], organization: ORG } }),
    ).toEqual([expect.stringMatching(/^inventory\.accounts: give either accounts or organization/)]);
  });
});

describe("organisation runs", () => {
  it("sync ACTIVE, included accounts once each, in the listing role's partition", () => {
    expect(
      selectAccounts(
        [
          { accountId: "222222222222", status: "ACTIVE" },
          { accountId: "111111111111", status: "ACTIVE" },
          { accountId: "111111111111", status: "ACTIVE" },
          { accountId: "333333333333", status: "SUSPENDED" },
          { accountId: "444444444444", status: "ACTIVE" },
        ],
        ["444444444444"],
      ),
    ).toEqual({
      accounts: ["111111111111", "222222222222"],
      skipped: [
        { accountId: "333333333333", why: "status SUSPENDED" },
        { accountId: "444444444444", why: "excluded by inventory.organization.excludeAccounts" },
      ],
    });
    expect(memberRoleArn({ ...ORG, roleArn: "arn:aws-cn:iam::111122223333:role/x" }, "222222222222")).toBe(
      "arn:aws-cn:iam::222222222222:role/credbroker-inventory",
    );
  });

  it("are complete once every account reported, or at the deadline with the silent ones timed out", () => {
    const run = {
      snapshotTime: "2026-11-30T10:00:00.000Z",
      accounts: ["1", "2", "3"],
      deadline: "2026-11-30T16:00:00.000Z",
      skipped: [],
    };
    const results = [
      { accountId: "1", status: "ok" as const, principals: 1, counts: {} as never, at: run.snapshotTime },
      { accountId: "2", status: "error" as const, error: "AccessDenied", at: run.snapshotTime },
    ];
    const before = runStatus(run, results, Date.parse("2026-11-30T11:00:00Z"));
    expect(before).toMatchObject({
      ok: 1,
      pending: ["3"],
      timedOut: [],
      complete: false,
      notSynced: ["2", "3"],
    });
    const after = runStatus(run, results, Date.parse(run.deadline));
    expect(after).toMatchObject({ pending: [], timedOut: ["3"], complete: true, notSynced: ["2", "3"] });
  });

  it("work at most the bound at once", async () => {
    let now = 0;
    let max = 0;
    const done: number[] = [];
    await boundedEach([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      max = Math.max(max, ++now);
      await new Promise((r) => setImmediate(r));
      now--;
      done.push(n);
    });
    expect(max).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });
});
