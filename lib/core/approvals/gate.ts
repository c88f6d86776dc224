// The token path's approval step (CONTRACT §10), called once `issue` is permitted. Without `approval_id`
// it records a request (or returns the one already pending) and answers `authorization_pending`; with it
// it answers the poll, and once approved links a grant id to the request in the same conditional write
// that marks it used, so that racing polls yield one grant.
import type { TaskConfig } from "../../config/schema.ts";
import type { AuditEvent } from "../audit.ts";
import type { BrokerDeps } from "../deps.ts";
import {
  ApprovalDenied,
  ApprovalExpired,
  ApprovalInvalid,
  AuthorizationPending,
  DependencyUnavailable,
  SlowDown,
} from "../errors.ts";
import { newId, sha256Hex } from "../ids.ts";
import { requestMessage } from "./notify.ts";
import type { ApprovalRequest } from "./request.ts";
import { newRequest, poll } from "./state.ts";
import { type ApprovalStore, ApprovalVersionConflict } from "./store.ts";

export interface GateInput {
  task: TaskConfig;
  approvalId: string | undefined;
  workload: { name: string; owner?: string | undefined };
  subject: string;
  issuer: string;
  claimTags: Record<string, string>;
  subjectTokenSha256: string;
  /** SHA-256 of the credential request the token renders: the approval is bound to it. */
  requestSha256: string;
  purpose: string;
  durationSeconds: number;
  sourceIp: string;
  /** The token request's audit event: this step names the approval on it. */
  event: AuditEvent;
}

/** How often a write is retried after losing a race to another writer of the same request. */
const ATTEMPTS = 5;

/**
 * Undefined when the request needs no approval; the grant id to issue under once it is approved; otherwise
 * throws the answer (`authorization_pending`, `slow_down`, `access_denied`, `expired_token`, `invalid_grant`).
 */
export async function approvalGate(
  deps: BrokerDeps,
  input: GateInput,
): Promise<{ grantId: string } | undefined> {
  if (input.approvalId === undefined && input.task.approval === undefined) return undefined;
  const store = deps.store.approvals;
  if (!store) throw new DependencyUnavailable("approval store", "the grant store keeps no approvals");
  try {
    if (input.approvalId === undefined) return await request(deps, store, input);
    input.event.approvalId = input.approvalId;
    return await answerPoll(deps, store, input, input.approvalId);
  } catch (err) {
    if (err instanceof ApprovalVersionConflict)
      throw new DependencyUnavailable("approval store", "the request kept changing under the poll");
    throw err;
  }
}

/**
 * Throws the waiting answer. Only the answer that made the request is audited; a poll (or the same request
 * asked again) is counted on the request instead (`polls`), so a 10-minute wait is one event, not 120.
 */
function pending(
  deps: BrokerDeps,
  r: ApprovalRequest,
  event: AuditEvent,
  { Answer = AuthorizationPending, audited = false } = {},
): never {
  const error = new Answer({
    approvalId: r.approvalId,
    intervalSeconds: r.intervalSeconds,
    expiresInSeconds: Math.max(0, Math.ceil((r.expiresAtMs - deps.clock.now()) / 1000)),
  });
  if (event.decisionId) error.decisionId = event.decisionId;
  if (!audited) error.unaudited = true;
  throw error;
}

const storeDown = (err: unknown) =>
  err instanceof ApprovalVersionConflict
    ? err
    : new DependencyUnavailable("approval store", (err as Error).name);

async function request(deps: BrokerDeps, store: ApprovalStore, input: GateInput): Promise<never> {
  const { event } = input;
  const approval = input.task.approval ?? { approvals: 1, expiresInSeconds: 900 };
  // One open request per workload, task and purpose, and per asker and request: another run of a glob
  // workload (another subject, or other rendered repositories) gets a request of its own, not this one.
  const key = sha256Hex(
    [input.workload.name, input.task.name, input.purpose, input.subject, input.requestSha256].join("\u0000"),
  );
  event.kind = "approval";
  event.outcome = "pending";
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const openId = await store.openRequest(key).catch((e) => Promise.reject(storeDown(e)));
    const open = openId ? await store.get(openId).catch((e) => Promise.reject(storeDown(e))) : undefined;
    const now = deps.clock.now();
    if (open && open.status === "pending" && now < open.expiresAtMs) {
      // An impatient caller gets the request it already has: no second request, no second notification.
      event.approvalId = open.approvalId;
      event.reasons = ["the pending request of this workload, task and purpose"];
      return pending(deps, open, event);
    }
    const r = newRequest(
      {
        approvalId: newId(now),
        workload: input.workload,
        subject: input.subject,
        issuer: input.issuer,
        claimTags: input.claimTags,
        subjectTokenSha256: input.subjectTokenSha256,
        requestSha256: input.requestSha256,
        task: input.task.name,
        purpose: input.purpose,
        durationSeconds: input.durationSeconds,
        sourceIp: input.sourceIp,
        decisionId: event.decisionId ?? "",
        approval,
      },
      now,
    );
    // The record is durable before the slot points at it, so whoever reads the slot finds the record.
    await store.create(r).catch((e) => Promise.reject(storeDown(e)));
    const won = await store
      .claimOpen(key, r.approvalId, openId, r.expiresAtMs)
      .catch((e) => Promise.reject(storeDown(e)));
    if (!won) {
      // Another request of the same workload, task and purpose got the slot first: this one was never
      // announced or answered, so it goes, and the next round returns the winner's.
      await store.remove(r.approvalId).catch(() => {});
      continue;
    }
    event.approvalId = r.approvalId;
    await announce(deps, r, input.task);
    return pending(deps, r, event, { audited: true });
  }
  throw new DependencyUnavailable("approval store", "the open request kept changing");
}

/** The webhook goes out only once the record is durable; a failure is the notifier's to log, never ours. */
async function announce(deps: BrokerDeps, r: ApprovalRequest, task: TaskConfig): Promise<void> {
  if (!deps.notifier) return;
  await deps.notifier
    .notify(
      requestMessage(r, {
        brokerUrl: deps.config.issuerUrl,
        approverIssuers: deps.config.approvals?.issuers ?? [],
        sensitivity: task.sensitivity,
      }),
    )
    .catch(() => {});
}

async function answerPoll(
  deps: BrokerDeps,
  store: ApprovalStore,
  input: GateInput,
  approvalId: string,
): Promise<{ grantId: string }> {
  const { event } = input;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const r = await store.get(approvalId).catch((e) => Promise.reject(storeDown(e)));
    if (!r) throw new ApprovalInvalid("unknown");
    let grantExists: boolean | undefined;
    if (r.grantId !== undefined)
      grantExists =
        (await deps.store.getGrant(r.grantId).catch((e) => Promise.reject(storeDown(e)))) !== undefined;
    const now = deps.clock.now();
    const outcome = poll(
      r,
      {
        workload: input.workload.name,
        subject: input.subject,
        requestSha256: input.requestSha256,
        task: input.task.name,
        purpose: input.purpose,
        durationSeconds: input.durationSeconds,
      },
      now,
      grantExists,
      newId(now),
    );
    switch (outcome.kind) {
      case "invalid":
        throw new ApprovalInvalid(outcome.why);
      case "denied":
        event.outcome = "deny";
        event.reasons = ["an approver denied the request"];
        throw new ApprovalDenied();
      case "expired":
        throw new ApprovalExpired();
      case "issuing":
        return pending(deps, r, event);
      case "pending":
      case "slow_down":
      case "issue":
        try {
          await store.replace(outcome.next);
        } catch (err) {
          if (err instanceof ApprovalVersionConflict) continue;
          throw storeDown(err);
        }
        if (outcome.kind === "issue") return { grantId: outcome.next.grantId as string };
        return pending(deps, outcome.next, event, {
          Answer: outcome.kind === "slow_down" ? SlowDown : AuthorizationPending,
        });
    }
  }
  throw new ApprovalVersionConflict(approvalId);
}
