// The approval request of CONTRACT §10: what a workload asked for, who said what, and where it stands. The
// record is the whole truth; every change to it is one conditional write on its `version`.

/** RFC 8628's default polling interval, and the step `slow_down` adds to it. */
export const POLL_INTERVAL_SECONDS = 5;
export const SLOW_DOWN_STEP_SECONDS = 5;
/**
 * A poll that took the approval to issue links the grant id first, then records the grant. If no grant
 * appears this long after that link, the issuing poll died in between, and the next poll issues that same
 * grant id instead (creating a grant is conditional on its id, so it is issued once).
 */
export const RESUME_AFTER_MS = POLL_INTERVAL_SECONDS * 1000;

/** What `POST /approvals/{id}` and the CLI show; `used` is `approved` with a grant linked. */
export type ApprovalStatus = "pending" | "approved" | "denied" | "expired";

export interface ApprovalVote {
  /** The approver issuer's name and the token's `sub`. */
  issuer: string;
  subject: string;
  decision: "approve" | "deny";
  reason: string;
  atMs: number;
  /** The `approve` policies that permitted this approver. */
  policyIds: string[];
}

export interface ApprovalRequest {
  approvalId: string;
  status: ApprovalStatus;
  workload: string;
  owner?: string;
  /** The workload token's subject and issuer name, and its claims as tags (no token, only its hash). */
  subject: string;
  issuer: string;
  claimTags: Record<string, string>;
  subjectTokenSha256: string;
  /**
   * SHA-256 of the credential request as rendered from the asking token (repositories, permissions, session
   * policy): a poll collects the approval only with a token of the same subject that renders the same.
   * Absent on requests recorded before approvals were bound to it: those can no longer be collected.
   */
  requestSha256?: string;
  task: string;
  purpose: string;
  /** The duration the grant will have, counted from the moment it is issued. */
  durationSeconds: number;
  sourceIp: string;
  /** The decision that permitted `issue` when the request was made. */
  decisionId: string;
  /** Distinct permitted approvers needed, and how long a request waits (and then an approval) before lapsing. */
  needed: number;
  windowSeconds: number;
  intervalSeconds: number;
  requestedAtMs: number;
  /** While pending: when it lapses. Once approved: until when the workload may collect its credential. */
  expiresAtMs: number;
  lastPolledAtMs: number;
  /**
   * How many times the workload polled: a poll answered `authorization_pending` or `slow_down` is counted
   * here, not audited (the audit has the request, each decision, the lapse and the issue).
   */
  polls?: number;
  votes: ApprovalVote[];
  decidedAtMs?: number;
  /** Set by the poll that took the approval to issue: the grant it yields (one approval, one grant). */
  grantId?: string;
  claimedAtMs?: number;
  /** Bumped by every write; a write that finds another version lost a race and is retried from a fresh read. */
  version: number;
}

/** The status as of `nowMs`: a pending request past its expiry has lapsed even before the sweep says so. */
export function statusAt(r: ApprovalRequest, nowMs: number): ApprovalStatus {
  if (r.status === "pending" && nowMs >= r.expiresAtMs) return "expired";
  if (r.status === "approved" && r.grantId === undefined && nowMs >= r.expiresAtMs) return "expired";
  return r.status;
}

/** Distinct permitted approvers who approved. */
export function approvalCount(r: ApprovalRequest): number {
  return r.votes.filter((v) => v.decision === "approve").length;
}

export const approverKey = (v: Pick<ApprovalVote, "issuer" | "subject">) => `${v.issuer}\u0000${v.subject}`;

/** An item of `GET /approvals` (CONTRACT §10), with what an approver needs to decide beside it. */
export function approvalView(r: ApprovalRequest, nowMs: number) {
  return {
    approvalId: r.approvalId,
    workload: r.workload,
    task: r.task,
    purpose: r.purpose,
    requestedAt: new Date(r.requestedAtMs).toISOString(),
    expiresAt: new Date(r.expiresAtMs).toISOString(),
    approvals: approvalCount(r),
    needed: r.needed,
    status: statusAt(r, nowMs),
    owner: r.owner ?? null,
    durationSeconds: r.durationSeconds,
  };
}
