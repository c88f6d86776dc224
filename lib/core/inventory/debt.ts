// The `debt` section of `credbroker report` (CONTRACT §9): the inventory's verdicts from each account's
// newest snapshot, in total and per account, and the trend over every kept snapshot, oldest first. Reviews
// are judged at report time, so a review recorded after the sync counts at once.

import type { OrganizationRunStatus } from "./organization.ts";
import {
  countDebt,
  countKeys,
  countSecrets,
  DEBT_CRITERIA,
  type DebtCounts,
  type DebtCriterion,
  type PrincipalRecord,
  type Review,
  reviewValidAt,
} from "./records.ts";
import type { SnapshotSummary } from "./store.ts";

export interface DebtItem {
  arn: string;
  why: string;
}

export interface DebtVerdict {
  criterion: DebtCriterion;
  /** Not pinned by the contract; always set by buildDebt. */
  title?: string;
  met: boolean;
  actual: number;
  target: number;
  items: DebtItem[];
  /** long-lived-keys only. */
  replaced?: number;
  unreplaced?: number;
  stillUsedAfterReplacement?: number;
  /** static-secrets only (CONTRACT §15). */
  brokered?: number;
  rotatedAfterUse?: number;
  exposed?: number;
  /** static-secrets only: served secrets whose handed-out copies may live on (no rotateAfterUse). */
  notes?: DebtItem[];
}

// A type, not an interface: readers that take any account object (Record<string, unknown>) accept it.
export type DebtAccount = {
  accountId: string;
  snapshotTime: string;
  generatedTime: string | null;
  source: SnapshotSummary["source"];
  counts: DebtCounts;
};

export interface DebtSection {
  /** The newest snapshot's time, or null before the first sync. */
  snapshotTime: string | null;
  accounts: DebtAccount[];
  verdicts: DebtVerdict[];
  /** Every criterion is counted; readers should not rely on a count being present (Partial). */
  trend: { snapshotTime: string; counts: Partial<DebtCounts> }[];
  /** The newest organisation run (CONTRACT §16): each account `ok` or its error, and those not synced. */
  organization?: OrganizationRunStatus;
}

export const DEBT_TITLES: Record<DebtCriterion, string> = {
  "privileged-unreviewed": "Every privileged principal has a valid review",
  "orphaned-principals": "Every IAM user and role is owned",
  "stale-principals": "No IAM user or role is stale",
  "long-lived-keys": "No active long-lived access key",
  "broker-bypass": "No task role can be assumed without the broker",
  "static-secrets": "Every static secret is brokered and rotated",
};

export interface AccountSnapshots {
  /** Kept summaries, oldest first. */
  summaries: readonly SnapshotSummary[];
  /** The newest snapshot's principals. */
  records: readonly PrincipalRecord[];
}

function keyWhy(k: NonNullable<PrincipalRecord["keys"]>[number], root: boolean): string {
  const used = k.lastUsed ? `last used ${k.lastUsed.slice(0, 10)}` : "never used";
  const who = root
    ? "; root account key"
    : k.replacedBy.length > 0
      ? `; replaced by ${k.replacedBy.join(", ")}${k.usedAfterReplacement ? ", still used after its first grant" : ""}`
      : "; not replaced";
  return `${k.key} active, ${used}${who}`;
}

function itemsOf(c: DebtCriterion, r: PrincipalRecord, reviews: ReadonlyMap<string, Review>, nowMs: number) {
  switch (c) {
    case "privileged-unreviewed": {
      if (!r.privileged || reviewValidAt(reviews.get(r.arn), nowMs)) return [];
      const review = reviews.get(r.arn);
      const lapsed = review ? ` (review by ${review.by} lapsed ${review.validUntil.slice(0, 10)})` : "";
      return [{ arn: r.arn, why: `${r.privileged.join("; ")}${lapsed}` }];
    }
    case "orphaned-principals":
      return r.orphaned ? [{ arn: r.arn, why: r.orphaned }] : [];
    case "stale-principals":
      return r.stale ? [{ arn: r.arn, why: r.stale }] : [];
    case "long-lived-keys":
      return (r.keys ?? []).map((k) => ({ arn: r.arn, why: keyWhy(k, r.kind === "root") }));
    case "broker-bypass":
      return r.bypass ? [{ arn: r.arn, why: r.bypass }] : [];
    case "static-secrets":
      return r.staticSecret ? [{ arn: r.arn, why: r.staticSecret }] : [];
  }
}

const zero = (): DebtCounts => Object.fromEntries(DEBT_CRITERIA.map((c) => [c, 0])) as unknown as DebtCounts;

export function buildDebt(
  accounts: readonly AccountSnapshots[],
  reviews: ReadonlyMap<string, Review>,
  nowMs: number,
): DebtSection {
  const current = accounts.filter((a) => a.summaries.length > 0);
  const records = current.flatMap((a) => a.records);
  const verdicts: DebtVerdict[] = DEBT_CRITERIA.map((criterion) => {
    const items = records.flatMap((r) => itemsOf(criterion, r, reviews, nowMs));
    const v: DebtVerdict = {
      criterion,
      title: DEBT_TITLES[criterion],
      met: items.length === 0,
      actual: items.length,
      target: 0,
      items,
    };
    if (criterion === "long-lived-keys") return { ...v, ...countKeys(records) };
    if (criterion === "static-secrets") {
      const notes = records
        .filter((r) => r.secret?.copiesMayLiveOn)
        .map((r) => ({
          arn: r.arn,
          why: `served by ${r.secret!.tasks.join(", ")} without rotateAfterUse: a copy handed out may live on after its grant`,
        }));
      return { ...v, ...countSecrets(records), ...(notes.length > 0 ? { notes } : {}) };
    }
    return v;
  });
  const accountRows = current
    .map((a) => {
      const s = a.summaries.at(-1)!;
      return {
        accountId: s.accountId,
        snapshotTime: s.snapshotTime,
        generatedTime: s.generatedTime,
        source: s.source,
        counts: countDebt(a.records, reviews, nowMs),
      };
    })
    .sort((x, y) => x.accountId.localeCompare(y.accountId));

  // The total at each sync time: every account's newest snapshot at or before it, summed, so accounts
  // synced at different times still add up.
  const times = [...new Set(current.flatMap((a) => a.summaries.map((s) => s.snapshotTime)))].sort();
  const trend = times.map((t) => {
    const counts = zero();
    for (const a of current) {
      const s = a.summaries.filter((x) => x.snapshotTime <= t).at(-1);
      if (s) for (const c of DEBT_CRITERIA) counts[c] += s.counts[c] ?? 0;
    }
    return { snapshotTime: t, counts };
  });
  return {
    snapshotTime: times.at(-1) ?? null,
    accounts: accountRows,
    verdicts: current.length > 0 ? verdicts : [],
    trend,
  };
}
