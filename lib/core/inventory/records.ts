// What a snapshot stores per principal, and the verdict criteria of CONTRACT §9 counted over them.

export const DEBT_CRITERIA = [
  "privileged-unreviewed",
  "orphaned-principals",
  "stale-principals",
  "long-lived-keys",
  "broker-bypass",
  "static-secrets",
] as const;
export type DebtCriterion = (typeof DEBT_CRITERIA)[number];
export type DebtCounts = Record<DebtCriterion, number>;

export interface KeyRecord {
  key: "access_key_1" | "access_key_2";
  lastUsed: string | null;
  lastRotated: string | null;
  /** The workloads and tasks that replace the key's user (`workload web-deploy`), empty when none. */
  replacedBy: string[];
  /** Used after the first grant of one that replaces it. */
  usedAfterReplacement: boolean;
}

/** A Secrets Manager secret of a snapshot (CONTRACT §15). */
export interface SecretRecordFacts {
  /** The secret tasks that serve it; empty when none does. */
  tasks: string[];
  /** Served by a rotateAfterUse task, and rotation is configured. */
  rotatedAfterUse: boolean;
  rotationEnabled: boolean;
  lastRotated: string | null;
  lastAccessed: string | null;
  /** A served secret that principals other than the broker can read: who, and through which policy. */
  readers?: string[];
  /** Served only by tasks without rotateAfterUse: a copy handed out may live on after its grant. */
  copiesMayLiveOn?: boolean;
}

/** One principal of a snapshot with each verdict's reason; absent fields are verdicts it does not meet. */
export interface PrincipalRecord {
  kind: "user" | "role" | "group" | "root" | "secret";
  arn: string;
  name: string;
  accountId: string;
  /** Why it is privileged. */
  privileged?: string[];
  /** Why it counts as owned. */
  owner?: string;
  orphaned?: string;
  lastUsed?: string | null;
  stale?: string;
  /** Active access keys. */
  keys?: KeyRecord[];
  /** Set on a task role that can be assumed without the broker, or is missing from the account. */
  bypass?: string;
  /** A task role named in the config but not found in the account. */
  missing?: boolean;
  /** kind secret: what the inventory knows of it. */
  secret?: SecretRecordFacts;
  /** kind secret: why it counts among the static secrets (not brokered, or not rotated in time). */
  staticSecret?: string;
}

export interface SecretCounts {
  brokered: number;
  rotatedAfterUse: number;
  exposed: number;
}

export function countSecrets(records: readonly PrincipalRecord[]): SecretCounts {
  const out = { brokered: 0, rotatedAfterUse: 0, exposed: 0 };
  for (const r of records) {
    if (!r.secret || r.secret.tasks.length === 0) continue;
    out.brokered++;
    if (r.secret.rotatedAfterUse) out.rotatedAfterUse++;
    if (r.secret.readers?.length) out.exposed++;
  }
  return out;
}

export interface KeyCounts {
  replaced: number;
  unreplaced: number;
  stillUsedAfterReplacement: number;
}

/** A review of a privileged principal (`credbroker inventory review`). */
export interface Review {
  arn: string;
  by: string;
  at: string;
  note: string;
  validUntil: string;
}

export const reviewValidAt = (review: Review | undefined, atMs: number): boolean =>
  review !== undefined && Date.parse(review.at) <= atMs && Date.parse(review.validUntil) > atMs;

export function countKeys(records: readonly PrincipalRecord[]): KeyCounts {
  const out = { replaced: 0, unreplaced: 0, stillUsedAfterReplacement: 0 };
  for (const r of records)
    for (const k of r.keys ?? []) {
      if (k.replacedBy.length > 0) out.replaced++;
      else out.unreplaced++;
      if (k.usedAfterReplacement) out.stillUsedAfterReplacement++;
    }
  return out;
}

export function countDebt(
  records: readonly PrincipalRecord[],
  reviews: ReadonlyMap<string, Review>,
  atMs: number,
): DebtCounts {
  const counts: DebtCounts = {
    "privileged-unreviewed": 0,
    "orphaned-principals": 0,
    "stale-principals": 0,
    "long-lived-keys": 0,
    "broker-bypass": 0,
    "static-secrets": 0,
  };
  for (const r of records) {
    if (r.staticSecret) counts["static-secrets"]++;
    if (r.privileged && !reviewValidAt(reviews.get(r.arn), atMs)) counts["privileged-unreviewed"]++;
    if (r.orphaned) counts["orphaned-principals"]++;
    if (r.stale) counts["stale-principals"]++;
    counts["long-lived-keys"] += r.keys?.length ?? 0;
    if (r.bypass) counts["broker-bypass"]++;
  }
  return counts;
}
