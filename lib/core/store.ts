import type { ApprovalStore } from "./approvals/store.ts";
import type { AuditEvent } from "./audit.ts";
import type { EventStore } from "./events/store.ts";
import type { Grant, GrantStatus } from "./grant.ts";
import type { RotationLedger } from "./providers/secret/ports.ts";
import type { GovernanceStore } from "./report/governance-store.ts";

export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** A grant changed under us: the conditional write found a status other than the expected one. */
export class TransitionConflict extends Error {
  constructor(
    readonly grantId: string,
    readonly expected: GrantStatus,
  ) {
    super(`grant ${grantId} is no longer ${expected}`);
    this.name = "TransitionConflict";
  }
}

export interface TransitionPatch {
  expiresAt?: string;
  revokedAt?: string;
  reason?: string;
  policyIds?: string[];
  accessKeyId?: string;
  revocation?: Grant["revocation"];
  revocationPending?: boolean;
  tokenSha256?: string;
  /** null removes it (the credential has been ended). */
  tokenCiphertext?: string | null;
  /** secret: the version handed out, written on the issuing grant before the value leaves. */
  versionId?: string;
  /** null removes it (the wait is over). */
  revocationAwaiting?: string | null;
  /** When the sweep should next look at the grant; null takes it off the due index. */
  dueAtMs?: number | null;
}

/**
 * What the sweep remembers between runs (one item, every write conditional on `revision`), so that a
 * config change is re-evaluated once and a long pass resumes where it stopped.
 */
export interface SweepState {
  /** Bumped by every write; a write that finds another revision lost the race and is dropped. */
  revision: number;
  /** The config version every live grant has been re-evaluated against. */
  configVersion?: string;
  /** Digest of the config without its workload list, and one per workload (with its position). */
  globalDigest?: string;
  workloadDigests?: Record<string, string>;
  /** A pass over every live grant in progress: the version it is for and where it stopped. */
  pass?: { configVersion: string; shard: number; key?: string; startedAtMs: number };
  /** Where the last due-index walk stopped for want of time; the next run starts there. */
  dueCursor?: string;
}

/** A workload whose live grants must be re-decided (a signal or workload change); cleared once settled. */
export interface ReevaluationMark {
  workload: string;
  markedAtMs: number;
}

/**
 * Durable grants, audit events and signals. Every status change is one conditional write; an
 * implementation translates its own conditional-failure error into TransitionConflict.
 */
export interface GrantStore {
  /** Webhook deliveries and ended CI tasks (CONTRACT §13); absent in stores that keep none. */
  readonly events?: EventStore;
  /** Approval requests (CONTRACT §10), kept in the same table; absent in stores that keep none. */
  readonly approvals?: ApprovalStore;
  /** Secret rotations in flight (CONTRACT §15), kept in the same table; absent in stores that keep none. */
  readonly secretRotations?: RotationLedger;
  /** Day summaries and the last sweep run (lib/core/report/governance-store.ts); absent: none kept. */
  readonly governance?: GovernanceStore;
  /** Writes a new grant in status issuing; fails if the id exists. Durable when it resolves. */
  createGrant(grant: Grant, dueAtMs: number): Promise<void>;
  /** Moves a grant from one status to another, or throws TransitionConflict. Returns the new record. */
  transition(grantId: string, from: GrantStatus, to: GrantStatus, patch?: TransitionPatch): Promise<Grant>;
  /**
   * The same, for a caller that needs nothing back (the token path's activation): a store may then skip
   * reading the record back. A store that ignores `{ record: false }` is still correct.
   */
  transition(
    grantId: string,
    from: GrantStatus,
    to: GrantStatus,
    patch: TransitionPatch,
    options: { record: false },
  ): Promise<unknown>;
  /** Updates non-status fields of a grant in a given status (e.g. marks a pending revocation as applied). */
  update(grantId: string, status: GrantStatus, patch: TransitionPatch): Promise<Grant>;
  getGrant(grantId: string): Promise<Grant | undefined>;
  /**
   * A workload's grants, newest first. `before` (a grantOrderKey) starts after that grant, so a listing that
   * merges several workloads can resume from the last grant it showed.
   */
  listGrantsByWorkload(
    workload: string,
    options?: { cursor?: string; limit?: number; before?: string },
  ): Promise<Page<Grant>>;
  /** Issuing or active grants of a workload (a sparse index: cost follows live grants, not history). */
  listLiveGrantsByWorkload(
    workload: string,
    options?: { cursor?: string; limit?: number },
  ): Promise<Page<Grant>>;
  /** Every grant, for admin listing; pages through the table. */
  listGrants(options?: { cursor?: string; limit?: number; status?: GrantStatus }): Promise<Page<Grant>>;
  /** Grants whose next sweep check is due at or before `untilMs`, in one shard of the due index. */
  listDue(
    shard: number,
    untilMs: number,
    options?: { cursor?: string; limit?: number },
  ): Promise<Page<Grant>>;
  readonly dueShards: number;

  /** Stores an event; storing one again (same eventId and time) replaces it. */
  putAudit(event: AuditEvent): Promise<void>;
  listAudit(options: {
    sinceMs: number;
    untilMs: number;
    workload?: string;
    /** Events of one task (by key, not by filtering the period); with `workload`, both must match. */
    task?: string;
    cursor?: string;
    limit?: number;
  }): Promise<Page<AuditEvent>>;

  /** The due time (epoch ms) of the oldest entry at or before `untilMs` in one shard, if any. */
  oldestDue(shard: number, untilMs: number): Promise<number | undefined>;

  getSweepState(): Promise<SweepState | undefined>;
  /** Writes the state if its stored revision is still `expectedRevision` (absent: no state yet). */
  putSweepState(state: Omit<SweepState, "revision">, expectedRevision: number | undefined): Promise<boolean>;
  markReevaluation(workload: string, nowMs: number): Promise<void>;
  listReevaluations(): Promise<ReevaluationMark[]>;
  /** Removes the mark only if it was not renewed since `markedAtMs`; false when it was. */
  clearReevaluation(workload: string, markedAtMs: number): Promise<boolean>;

  getSignals(workload: string): Promise<Record<string, string>>;
  setSignals(
    workload: string,
    signals: Record<string, string>,
    nowMs: number,
  ): Promise<Record<string, string>>;
  clearSignals(workload: string, names: string[], nowMs: number): Promise<Record<string, string>>;
}

/** Where a grant sorts in a newest-first listing: by issue time, then id (the workload index's order). */
export const grantOrderKey = (g: Pick<Grant, "issuedAt" | "grantId">) => `${g.issuedAt}#${g.grantId}`;
