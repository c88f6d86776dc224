// The approval request's state machine, pure: each function answers what the next record is (if any) and
// what the caller should be told. The gate and the approver routes write the answer with one conditional
// write and start again from a fresh read when another writer got there first.
import {
  type ApprovalRequest,
  type ApprovalVote,
  approvalCount,
  approverKey,
  POLL_INTERVAL_SECONDS,
  RESUME_AFTER_MS,
  SLOW_DOWN_STEP_SECONDS,
  statusAt,
} from "./request.ts";

export interface NewRequestFacts {
  approvalId: string;
  workload: { name: string; owner?: string | undefined };
  subject: string;
  issuer: string;
  claimTags: Record<string, string>;
  subjectTokenSha256: string;
  requestSha256: string;
  task: string;
  purpose: string;
  durationSeconds: number;
  sourceIp: string;
  decisionId: string;
  approval: { approvals: number; expiresInSeconds: number };
}

export function newRequest(f: NewRequestFacts, nowMs: number): ApprovalRequest {
  return {
    approvalId: f.approvalId,
    status: "pending",
    workload: f.workload.name,
    ...(f.workload.owner !== undefined ? { owner: f.workload.owner } : {}),
    subject: f.subject,
    issuer: f.issuer,
    claimTags: f.claimTags,
    subjectTokenSha256: f.subjectTokenSha256,
    requestSha256: f.requestSha256,
    task: f.task,
    purpose: f.purpose,
    durationSeconds: f.durationSeconds,
    sourceIp: f.sourceIp,
    decisionId: f.decisionId,
    needed: f.approval.approvals,
    windowSeconds: f.approval.expiresInSeconds,
    intervalSeconds: POLL_INTERVAL_SECONDS,
    requestedAtMs: nowMs,
    expiresAtMs: nowMs + f.approval.expiresInSeconds * 1000,
    lastPolledAtMs: nowMs,
    votes: [],
    version: 0,
  };
}

export interface Poll {
  workload: string;
  /** The polling token's subject and the SHA-256 of the request it renders (see ApprovalRequest). */
  subject: string;
  requestSha256: string;
  task: string;
  purpose: string;
  durationSeconds: number;
}

export type PollOutcome =
  | { kind: "invalid"; why: "used" | "other-workload" | "mismatch" }
  | { kind: "denied" }
  | { kind: "expired" }
  /** Still waiting: the poll is recorded (its time, or a longer interval after `slow_down`). */
  | { kind: "pending" | "slow_down"; next: ApprovalRequest }
  /** Another poll is issuing this approval's grant right now: wait like a pending request. */
  | { kind: "issuing" }
  /** Approved: issue the grant `next.grantId`, once `next` is written. */
  | { kind: "issue"; next: ApprovalRequest };

/**
 * A workload's poll. `grantExists` says whether the grant an earlier poll linked was recorded (undefined
 * when none was linked); `freshGrantId` is the id to link when this poll is the one that issues.
 */
export function poll(
  r: ApprovalRequest,
  p: Poll,
  nowMs: number,
  grantExists: boolean | undefined,
  freshGrantId: string,
): PollOutcome {
  if (r.workload !== p.workload) return { kind: "invalid", why: "other-workload" };
  if (r.task !== p.task || r.purpose !== p.purpose || r.durationSeconds !== p.durationSeconds)
    return { kind: "invalid", why: "mismatch" };
  // Bound to what was asked (a glob workload's other run, a token that renders other repositories or
  // another session policy, collects nothing someone approved for the first).
  if (r.subject !== p.subject || r.requestSha256 === undefined || r.requestSha256 !== p.requestSha256)
    return { kind: "invalid", why: "mismatch" };
  if (r.grantId !== undefined) {
    if (grantExists) return { kind: "invalid", why: "used" };
    // Linked but never recorded: the issuing poll is still at work, or died before recording the grant.
    if (nowMs - (r.claimedAtMs ?? 0) < RESUME_AFTER_MS) return { kind: "issuing" };
    return { kind: "issue", next: { ...r, claimedAtMs: nowMs, polls: polled(r), version: r.version + 1 } };
  }
  const status = statusAt(r, nowMs);
  if (status === "denied") return { kind: "denied" };
  if (status === "expired") return { kind: "expired" };
  if (status === "approved")
    return {
      kind: "issue",
      next: { ...r, grantId: freshGrantId, claimedAtMs: nowMs, polls: polled(r), version: r.version + 1 },
    };
  // RFC 8628 §3.5: polled before the interval passed → slow_down, and the interval grows for good.
  if (nowMs - r.lastPolledAtMs < r.intervalSeconds * 1000)
    return {
      kind: "slow_down",
      next: {
        ...r,
        intervalSeconds: r.intervalSeconds + SLOW_DOWN_STEP_SECONDS,
        lastPolledAtMs: nowMs,
        polls: polled(r),
        version: r.version + 1,
      },
    };
  return { kind: "pending", next: { ...r, lastPolledAtMs: nowMs, polls: polled(r), version: r.version + 1 } };
}

/** The request's poll count with this poll in it. */
const polled = (r: ApprovalRequest) => (r.polls ?? 0) + 1;

export type VoteOutcome =
  | { kind: "closed"; status: ApprovalRequest["status"] }
  /** The same approver approved before: counted once, nothing changes. */
  | { kind: "repeat" }
  | { kind: "counted"; next: ApprovalRequest };

/** A permitted approver's decision. The first deny ends the request; `needed` distinct approvals approve it. */
export function vote(r: ApprovalRequest, v: ApprovalVote, nowMs: number): VoteOutcome {
  const status = statusAt(r, nowMs);
  if (status !== "pending") return { kind: "closed", status };
  if (v.decision === "deny")
    return {
      kind: "counted",
      next: { ...r, status: "denied", votes: [...r.votes, v], decidedAtMs: nowMs, version: r.version + 1 },
    };
  if (r.votes.some((o) => o.decision === "approve" && approverKey(o) === approverKey(v)))
    return { kind: "repeat" };
  const votes = [...r.votes, v];
  const next: ApprovalRequest = { ...r, votes, version: r.version + 1 };
  if (approvalCount(next) >= r.needed) {
    next.status = "approved";
    next.decidedAtMs = nowMs;
    // The workload gets a full window to collect its credential, counted from the approval.
    next.expiresAtMs = nowMs + r.windowSeconds * 1000;
  }
  return { kind: "counted", next };
}

/** The sweep's move: a request (or an approval nobody collected) past its expiry lapses. */
export function lapse(r: ApprovalRequest, nowMs: number): ApprovalRequest | undefined {
  if (statusAt(r, nowMs) !== "expired" || r.status === "expired") return undefined;
  return { ...r, status: "expired", decidedAtMs: r.decidedAtMs ?? nowMs, version: r.version + 1 };
}
