// Where approval requests live. Each write is one conditional write; an implementation translates its own
// conditional failure into ApprovalVersionConflict.
import type { Page } from "../store.ts";
import type { ApprovalRequest } from "./request.ts";

/** The record changed since it was read: read it again and decide again. */
export class ApprovalVersionConflict extends Error {
  constructor(readonly approvalId: string) {
    super(`approval ${approvalId} changed`);
    this.name = "ApprovalVersionConflict";
  }
}

export interface ApprovalStore {
  /** Writes a new request; fails if the id exists. Durable when it resolves. */
  create(request: ApprovalRequest): Promise<void>;
  get(approvalId: string): Promise<ApprovalRequest | undefined>;
  /** Writes `next` if the stored version is still `next.version - 1`, else throws ApprovalVersionConflict. */
  replace(next: ApprovalRequest): Promise<void>;
  /** Removes a request nobody was ever told about (a lost race for the open slot). */
  remove(approvalId: string): Promise<void>;
  /**
   * The open slot of one workload, task and purpose: the id of its newest request, by a deterministic key,
   * so a repeated request finds the pending one without reading anything else.
   */
  openRequest(key: string): Promise<string | undefined>;
  /** Points the slot at `approvalId` if it still points at `expected` (undefined: empty); false otherwise. */
  claimOpen(
    key: string,
    approvalId: string,
    expected: string | undefined,
    expiresAtMs: number,
  ): Promise<boolean>;
  /** Requests that are pending (a sparse index: cost follows open requests, not history). */
  listPending(): Promise<ApprovalRequest[]>;
  /** Pending or uncollected requests whose expiry is at or before `untilMs` (the sweep's due list). */
  listDue(untilMs: number, options?: { cursor?: string; limit?: number }): Promise<Page<ApprovalRequest>>;
  /** Requests made in [sinceMs, untilMs], for the report (by month partition, never a scan). */
  listRequested(sinceMs: number, untilMs: number): Promise<ApprovalRequest[]>;
}
