// Where snapshots and reviews live (the broker's table on AWS and in dev; lib/aws/inventory-store.ts).
import type { DebtCounts, KeyCounts, PrincipalRecord, Review, SecretCounts } from "./records.ts";

/** One account's snapshot, without its principals: what the trend reads. */
export interface SnapshotSummary {
  accountId: string;
  /** When the sync ran (ISO); one sync gives all its accounts the same time. */
  snapshotTime: string;
  /** The credential report's own GeneratedTime, when known. */
  generatedTime: string | null;
  source: "live" | "files";
  principals: number;
  /** The verdict counts as of the sync (reviews valid then). */
  counts: DebtCounts;
  keys: KeyCounts;
  /** The static-secrets verdict's own counts (absent in snapshots from before secrets were read). */
  secrets?: SecretCounts;
  brokerPrincipals: string[];
  /**
   * Where the broker's principals came from: `caller-identity` when STS GetCallerIdentity answered for the
   * broker's credentials (as every live sync does), `config` when only inventory.brokerPrincipals counted
   * (a file sync without AWS credentials at hand). Absent on snapshots stored before it was recorded.
   */
  brokerPrincipalsFrom?: "caller-identity" | "config";
}

/** Replacing workloads and tasks, whose first grant dates a replaced key's use as "after replacement". */
export interface Replacer {
  kind: "workload" | "task";
  name: string;
}

export interface InventoryStore {
  /** The organisation inventory's runs (CONTRACT §16), where the store keeps them. */
  readonly organizationRuns?: import("./organization.ts").OrganizationRunStore;
  /**
   * Stores a snapshot: its principals first, the summary last, so a sync that fails part way leaves the
   * previous snapshot the newest. Refuses (throws) a summary that already exists.
   */
  putSnapshot(summary: SnapshotSummary, records: readonly PrincipalRecord[]): Promise<void>;
  /** Deletes all but the newest `keep` snapshots of an account; returns how many it deleted. */
  pruneSnapshots(accountId: string, keep: number): Promise<number>;
  /** Accounts that have been synced at least once (their snapshots may have been pruned since). */
  listAccounts(): Promise<string[]>;
  /** An account's kept summaries, oldest first. */
  listSummaries(accountId: string): Promise<SnapshotSummary[]>;
  readRecords(summary: SnapshotSummary): Promise<PrincipalRecord[]>;
  putReview(review: Review): Promise<void>;
  /** The newest review of every principal ever reviewed. */
  listReviews(): Promise<Map<string, Review>>;
  /** The first grant (epoch ms) of a workload or task, or undefined when it has none. */
  firstGrantMs(replacer: Replacer): Promise<number | undefined>;
}
