// The approvers' side of CONTRACT §10: `GET /approvals`, `GET /approvals/{id}` and `POST /approvals/{id}`,
// authenticated with an approver token (verified like a subject token, against `approvals.issuers` only)
// and decided per approval by Cedar's `approve`. Every approval and denial is audited with the approver.
import type { AuditEvent } from "../audit.ts";
import { recordAudit } from "../audit-recorder.ts";
import type { BrokerDeps } from "../deps.ts";
import {
  ApprovalConflict,
  ApproverNotPermitted,
  BrokerError,
  DependencyUnavailable,
  InvalidApproverToken,
  MalformedParameter,
  NotFound,
} from "../errors.ts";
import { claimsToTags } from "../identity/claims.ts";
import { GRANT_ID_PATTERN, newId } from "../ids.ts";
import type { Params } from "../params.ts";
import type { DecisionResult } from "../policy/authorizer.ts";
import { isSafeText } from "../text.ts";
import { required } from "../token-request.ts";
import { type ApprovalRequest, approvalCount, approvalView, statusAt } from "./request.ts";
import { vote } from "./state.ts";
import { type ApprovalStore, ApprovalVersionConflict } from "./store.ts";

export interface Approver {
  issuer: string;
  subject: string;
  tags: Record<string, string>;
}

export type ApproverDeps = Pick<
  BrokerDeps,
  "store" | "tasks" | "authorizer" | "clock" | "log" | "approverVerifier"
>;

/** `Authorization: Bearer <approver token>`; anything missing, malformed or unverifiable is 401. */
export async function authenticateApprover(
  deps: ApproverDeps,
  authorization: string | undefined,
): Promise<Approver> {
  const match = /^Bearer ([^\s]+)$/i.exec(authorization?.trim() ?? "");
  if (!match?.[1] || !deps.approverVerifier) throw new InvalidApproverToken();
  try {
    const verified = await deps.approverVerifier.verify(match[1]);
    return { issuer: verified.issuer.name, subject: verified.subject, tags: claimsToTags(verified.claims) };
  } catch (err) {
    // We could not check (keys unreachable): 503, as for subject tokens. Anything else is a bad token.
    if (err instanceof BrokerError && err.code === "dependency_unavailable") throw err;
    throw new InvalidApproverToken(err instanceof BrokerError ? err.code : (err as Error).name);
  }
}

function approvalStore(deps: ApproverDeps): ApprovalStore {
  if (!deps.store.approvals)
    throw new DependencyUnavailable("approval store", "the grant store keeps no approvals");
  return deps.store.approvals;
}

const storeDown = (err: unknown): Error =>
  err instanceof BrokerError || err instanceof ApprovalVersionConflict
    ? err
    : new DependencyUnavailable("approval store", (err as Error).name);

function mayApprove(
  deps: ApproverDeps,
  approver: Approver,
  r: ApprovalRequest,
  nowMs: number,
  sourceIp: string,
): DecisionResult {
  const task = deps.tasks.get(r.task);
  // A task removed from the config can no longer be approved: its request can only lapse or be denied.
  if (!task)
    return {
      allowed: false,
      policyIds: [],
      reasons: ["the task is no longer configured"],
      erroredPolicyIds: [],
    };
  return deps.authorizer.decideApproval({
    approver: { name: approver.subject, issuer: approver.issuer },
    tags: approver.tags,
    task: { name: task.name, provider: task.provider, sensitivity: task.sensitivity },
    context: {
      workload: r.workload,
      owner: r.owner ?? "",
      purpose: r.purpose,
      requestId: r.approvalId,
      sourceIp,
      nowMs,
    },
  });
}

/**
 * The pending requests this approver may decide: a request's purpose and owner are shown only to the people
 * whose `approve` decision permits them, as a request nobody lets them decide is none of their business.
 */
export async function listApprovals(deps: ApproverDeps, authorization: string | undefined, sourceIp: string) {
  const approver = await authenticateApprover(deps, authorization);
  const pending = await approvalStore(deps)
    .listPending()
    .catch((e) => Promise.reject(storeDown(e)));
  const now = deps.clock.now();
  return {
    approvals: pending
      .filter((r) => statusAt(r, now) === "pending" && mayApprove(deps, approver, r, now, sourceIp).allowed)
      .map((r) => ({ ...approvalView(r, now), mayApprove: true })),
  };
}

function parseId(id: string): string {
  if (!GRANT_ID_PATTERN.test(id)) throw new NotFound();
  return id;
}

export async function showApproval(
  deps: ApproverDeps,
  authorization: string | undefined,
  id: string,
  sourceIp: string,
) {
  const approver = await authenticateApprover(deps, authorization);
  const r = await approvalStore(deps)
    .get(parseId(id))
    .catch((e) => Promise.reject(storeDown(e)));
  if (!r) throw new NotFound();
  const now = deps.clock.now();
  // As in the list: a request this approver may not decide is not shown to them (as if unknown).
  if (!mayApprove(deps, approver, r, now, sourceIp).allowed) throw new NotFound();
  return {
    ...approvalView(r, now),
    mayApprove: true,
    votes: r.votes.map((v) => ({
      approverIssuer: v.issuer,
      approverSubject: v.subject,
      decision: v.decision,
      reason: v.reason,
      at: new Date(v.atMs).toISOString(),
    })),
    ...(r.grantId !== undefined ? { grantId: r.grantId } : {}),
    /** How often the workload polled (counted here, not in the audit). */
    polls: r.polls ?? 0,
  };
}

export interface ApprovalAnswer {
  approvalId: string;
  status: ApprovalRequest["status"];
  approvals: number;
  needed: number;
}

const answer = (r: ApprovalRequest, nowMs: number): ApprovalAnswer => ({
  approvalId: r.approvalId,
  status: statusAt(r, nowMs),
  approvals: approvalCount(r),
  needed: r.needed,
});

/** `POST /approvals/{id}` with `decision=approve|deny` and an optional `reason`. */
export async function decideApproval(
  deps: ApproverDeps,
  input: { authorization: string | undefined; id: string; params: Params; sourceIp: string },
): Promise<ApprovalAnswer> {
  const approver = await authenticateApprover(deps, input.authorization);
  const decision = required(input.params, "decision");
  if (decision !== "approve" && decision !== "deny")
    throw new MalformedParameter("decision", "must be approve or deny");
  const reason = input.params.get("reason") ?? "";
  if (reason.length > 512 || !isSafeText(reason))
    throw new MalformedParameter(
      "reason",
      "must be at most 512 printable characters (no controls, bidi or zero-width characters)",
    );
  const store = approvalStore(deps);
  const id = parseId(input.id);

  const started = deps.clock.now();
  const event: AuditEvent = {
    eventId: newId(started),
    time: new Date(started).toISOString(),
    kind: "approval",
    outcome: "error",
    decisionId: newId(started),
    approvalId: id,
    approverIssuer: approver.issuer,
    approverSubject: approver.subject,
    sourceIp: input.sourceIp,
    ...(reason !== "" ? { reasons: [reason] } : {}),
  };
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      const r = await store.get(id).catch((e) => Promise.reject(storeDown(e)));
      if (!r) throw new NotFound();
      event.workload = r.workload;
      event.task = r.task;
      if (r.purpose !== "") event.purpose = r.purpose;
      const now = deps.clock.now();
      const status = statusAt(r, now);
      if (status !== "pending") throw new ApprovalConflict(status);
      const permitted = mayApprove(deps, approver, r, now, input.sourceIp);
      event.policyIds = permitted.policyIds;
      // An approver no policy permits does not count, whatever they said.
      if (!permitted.allowed) {
        event.reasons = [...permitted.reasons, ...(reason !== "" ? [reason] : [])];
        throw new ApproverNotPermitted();
      }
      const outcome = vote(
        r,
        {
          issuer: approver.issuer,
          subject: approver.subject,
          decision,
          reason,
          atMs: now,
          policyIds: permitted.policyIds,
        },
        now,
      );
      event.outcome = decision;
      if (outcome.kind === "closed") throw new ApprovalConflict(outcome.status);
      if (outcome.kind === "repeat") {
        event.reasons = ["this approver's approval was already counted", ...(reason !== "" ? [reason] : [])];
        return answer(r, now);
      }
      try {
        await store.replace(outcome.next);
      } catch (err) {
        if (err instanceof ApprovalVersionConflict) continue;
        throw storeDown(err);
      }
      return answer(outcome.next, now);
    }
    throw new DependencyUnavailable("approval store", "the request kept changing");
  } catch (err) {
    // Whatever failed, nothing was counted.
    event.outcome = "error";
    event.errorCode = err instanceof BrokerError ? err.code : "dependency_unavailable";
    throw err;
  } finally {
    await recordAudit(deps.store, deps.log, event);
  }
}
