// The report's debt from snapshots: accounts synced at different times add up in the trend, reviews are
// judged when the report is made, and no snapshot means an empty section.
import { describe, expect, it } from "vitest";
import { buildDebt } from "../../lib/core/inventory/debt.ts";
import type { DebtCounts, PrincipalRecord } from "../../lib/core/inventory/records.ts";
import type { SnapshotSummary } from "../../lib/core/inventory/store.ts";

const counts = (n: number): DebtCounts => ({
  "privileged-unreviewed": n,
  "orphaned-principals": n,
  "stale-principals": 0,
  "long-lived-keys": 0,
  "broker-bypass": 0,
  "static-secrets": 0,
});
const summary = (accountId: string, snapshotTime: string, n: number): SnapshotSummary => ({
  accountId,
  snapshotTime,
  generatedTime: null,
  source: "live",
  principals: n,
  counts: counts(n),
  keys: { replaced: 0, unreplaced: 0, stillUsedAfterReplacement: 0 },
  brokerPrincipals: [],
});
const admin = (accountId: string): PrincipalRecord => ({
  kind: "role",
  arn: `arn:aws:iam::${accountId}:role/admin`,
  name: "admin",
  accountId,
  privileged: ["AdministratorAccess attached"],
  orphaned: "no owner tag and not in any replaces",
});

describe("buildDebt", () => {
  it("sums each account's newest snapshot at or before every sync time, oldest first", () => {
    const d = buildDebt(
      [
        {
          summaries: [
            summary("111111111111", "2026-11-01T00:00:00.000Z", 5),
            summary("111111111111", "2026-11-03T00:00:00.000Z", 3),
          ],
          records: [admin("111111111111")],
        },
        {
          summaries: [summary("222222222222", "2026-11-02T00:00:00.000Z", 2)],
          records: [admin("222222222222")],
        },
      ],
      new Map(),
      Date.parse("2026-11-04T00:00:00Z"),
    );
    expect(d.trend.map((t) => [t.snapshotTime.slice(0, 10), t.counts["orphaned-principals"]])).toEqual([
      ["2026-11-01", 5],
      ["2026-11-02", 7],
      ["2026-11-03", 5],
    ]);
    expect(d.snapshotTime).toBe("2026-11-03T00:00:00.000Z");
    expect(d.accounts.map((a) => [a.accountId, a.counts["privileged-unreviewed"]])).toEqual([
      ["111111111111", 1],
      ["222222222222", 1],
    ]);
  });

  it("counts a review only while it is valid", () => {
    const arn = "arn:aws:iam::111111111111:role/admin";
    const reviews = new Map([
      [
        arn,
        { arn, by: "x", at: "2026-11-01T00:00:00.000Z", note: "ok", validUntil: "2026-12-01T00:00:00.000Z" },
      ],
    ]);
    const snaps = [
      {
        summaries: [summary("111111111111", "2026-11-01T00:00:00.000Z", 1)],
        records: [admin("111111111111")],
      },
    ];
    expect(buildDebt(snaps, reviews, Date.parse("2026-11-15T00:00:00Z")).verdicts[0]).toMatchObject({
      met: true,
      actual: 0,
    });
    expect(buildDebt(snaps, reviews, Date.parse("2026-12-15T00:00:00Z")).verdicts[0]).toMatchObject({
      met: false,
      actual: 1,
    });
  });

  it("is empty before the first sync", () => {
    expect(buildDebt([{ summaries: [], records: [] }], new Map(), 0)).toEqual({
      snapshotTime: null,
      accounts: [],
      verdicts: [],
      trend: [],
    });
  });
});
