// Re-decides a live grant against the current config, workloads, signals, exceptions and time, with the
// same decision builder and Cedar authorizer as the token path, and revokes it when the answer is now no.
// The subject token is gone (only its hash is kept), so the grant carries its claims as tags.
import type { AuditEvent } from "./audit.ts";
import { type DecisionFacts, decisionInput, recheckAt } from "./decision.ts";
import type { BrokerDeps } from "./deps.ts";
import type { Grant } from "./grant.ts";
import { revokeGrant } from "./revoke-grant.ts";
import { TransitionConflict } from "./store.ts";

export type ReevaluateDeps = Pick<
  BrokerDeps,
  | "config"
  | "configVersion"
  | "tasks"
  | "policies"
  | "workloads"
  | "authorizer"
  | "store"
  | "providers"
  | "clock"
  | "log"
>;

export type Verdict =
  | { allowed: true; policyIds: string[]; recheckAtMs?: number }
  | { allowed: false; reason: string; policyIds: string[] };

/** Pure: what the current config says about this grant now. */
export function judgeGrant(
  deps: Pick<ReevaluateDeps, "config" | "tasks" | "policies" | "workloads" | "authorizer">,
  grant: Grant,
  signals: Record<string, string>,
  nowMs: number,
): Verdict {
  const workload = deps.config.workloads.find((w) => w.name === grant.workload);
  if (!workload) return { allowed: false, reason: "workload removed", policyIds: [] };
  if (workload.disabled) return { allowed: false, reason: "workload disabled", policyIds: [] };
  // The inventory is first-match: an edit elsewhere in it can hand this subject to another workload.
  const matched = deps.workloads.match(grant.issuer, grant.subject);
  if (matched?.name !== workload.name)
    return {
      allowed: false,
      reason: matched
        ? `subject now maps to workload ${matched.name}`
        : "workload no longer matches the subject",
      policyIds: [],
    };
  const task = deps.tasks.get(grant.task);
  if (!task) return { allowed: false, reason: "task removed", policyIds: [] };
  if (task.provider !== grant.provider)
    return { allowed: false, reason: "task changed provider", policyIds: [] };

  const facts: DecisionFacts = {
    workload,
    subject: grant.subject,
    // A grant recorded without claims is decided without them: fail closed, never open.
    claimTags: grant.claimTags ?? {},
    signals,
    task,
    context: {
      sourceIp: grant.sourceIp,
      durationSeconds: grant.durationSeconds,
      purpose: grant.purpose,
      nowMs,
    },
  };
  const decision = deps.authorizer.decide(decisionInput(facts));
  if (decision.allowed) {
    const at = recheckAt(deps.policies, decision, nowMs);
    return { allowed: true, policyIds: decision.policyIds, ...(at !== undefined ? { recheckAtMs: at } : {}) };
  }
  if (decision.denial === "exception-expired")
    return {
      allowed: false,
      reason: `exception expired: ${decision.policyIds.join(", ")}`,
      policyIds: decision.policyIds,
    };
  if (decision.policyIds.length > 0)
    return {
      allowed: false,
      reason: `denied by policy: ${decision.policyIds.join(", ")}`,
      policyIds: decision.policyIds,
    };
  // No permit holds any more: name the permits that used to allow it.
  return { allowed: false, reason: "no policy permits it now", policyIds: grant.policyIds };
}

export type Outcome = "kept" | "revoked" | "skipped";

export interface ReevaluateOptions {
  kind: AuditEvent["kind"];
  /** Move the grant's due time to its next recheck (or its expiry): the sweep does, when the grant was due. */
  reschedule: "always" | "if-sooner";
  actor?: string;
}

/**
 * Re-decides one active grant and revokes it if denied. `skipped` when it is not active or another writer
 * moved it first: the conditional writes make every transition happen exactly once.
 */
export async function reevaluateGrant(
  deps: ReevaluateDeps,
  grant: Grant,
  signals: Record<string, string>,
  options: ReevaluateOptions,
): Promise<{ outcome: Outcome; verdict?: Verdict; grant?: Grant }> {
  if (grant.status !== "active") return { outcome: "skipped" };
  const now = deps.clock.now();
  const expiresAtMs = Date.parse(grant.expiresAt);
  const verdict = judgeGrant(deps, grant, signals, now);
  if (!verdict.allowed) {
    const revoked = await revokeGrant(deps, grant, {
      reason: verdict.reason,
      policyIds: verdict.policyIds,
      kind: options.kind,
      ...(options.actor ? { actor: options.actor } : {}),
    });
    return revoked ? { outcome: "revoked", verdict, grant: revoked } : { outcome: "skipped", verdict };
  }
  const next = Math.min(expiresAtMs, verdict.recheckAtMs ?? Number.POSITIVE_INFINITY);
  if (options.reschedule === "always" || next < expiresAtMs) {
    try {
      await deps.store.update(grant.grantId, "active", { dueAtMs: next });
    } catch (err) {
      if (err instanceof TransitionConflict) return { outcome: "skipped", verdict };
      throw err;
    }
  }
  return { outcome: "kept", verdict };
}

/** Re-decides every live grant of one workload; `settled` is false while one is still being issued. */
export async function reevaluateWorkload(
  deps: ReevaluateDeps,
  workload: string,
  options: Omit<ReevaluateOptions, "reschedule">,
): Promise<{ evaluated: number; revoked: Grant[]; skipped: number; settled: boolean }> {
  const signals = await deps.store.getSignals(workload);
  const result = { evaluated: 0, revoked: [] as Grant[], skipped: 0, settled: true };
  let cursor: string | undefined;
  do {
    const page = await deps.store.listLiveGrantsByWorkload(workload, {
      ...(cursor ? { cursor } : {}),
      limit: 100,
    });
    for (const grant of page.items) {
      if (grant.status === "issuing") {
        // Decided before the change, credential not yet out: look again once it is active or failed.
        result.settled = false;
        continue;
      }
      result.evaluated++;
      const { outcome, grant: revoked } = await reevaluateGrant(deps, grant, signals, {
        ...options,
        reschedule: "if-sooner",
      });
      if (outcome === "revoked" && revoked) result.revoked.push(revoked);
      if (outcome === "skipped") result.skipped++;
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}
