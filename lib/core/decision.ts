// The one way a decision is built, shared by the token path and by re-evaluation of live grants, so the
// sweep re-decides a grant with exactly the inputs and rules that allowed it.
import type { TaskConfig } from "../config/schema.ts";
import { signalsToTags } from "./identity/claims.ts";
import type { DecisionInput, DecisionResult } from "./policy/authorizer.ts";
import type { CompiledPolicies } from "./policy/policy-set.ts";

const HOUR_MS = 3_600_000;

export interface DecisionFacts {
  workload: { name: string; issuer: string; owner?: string | undefined };
  subject: string;
  /** The subject token's claims as tags (claimsToTags); recorded on the grant for re-evaluation. */
  claimTags: Record<string, string>;
  signals: Record<string, string>;
  task: Pick<TaskConfig, "name" | "provider" | "sensitivity">;
  context: { sourceIp: string; durationSeconds: number; purpose: string; nowMs: number };
}

export function decisionInput(facts: DecisionFacts): DecisionInput {
  const { workload, task } = facts;
  return {
    workload: {
      name: workload.name,
      issuer: workload.issuer,
      subject: facts.subject,
      ...(workload.owner !== undefined ? { owner: workload.owner } : {}),
    },
    // Signals last: they come from the store and must win over any claim of the same name.
    tags: { ...facts.claimTags, ...signalsToTags(facts.signals) },
    task: { name: task.name, provider: task.provider, sensitivity: task.sensitivity },
    context: { ...facts.context },
  };
}

/**
 * When an allowed grant must be decided again because time alone can change the answer: the expiry of a
 * time-bound exception that allowed it, or the next hour boundary when a policy reads the time (a permit
 * that allowed it, or any forbid — a forbid that reads the time can close a window on any grant). Hour
 * granularity bounds the cost: each such grant is re-read at most once per hour. Undefined when only a
 * config or signal change can alter the decision.
 */
export function recheckAt(
  policies: CompiledPolicies,
  decision: DecisionResult,
  nowMs: number,
): number | undefined {
  if (!decision.allowed) return undefined;
  let at = Number.POSITIVE_INFINITY;
  let readsTime = false;
  for (const id of decision.policyIds) {
    const policy = policies.policies[id];
    if (!policy) continue;
    if (policy.expiresAt !== undefined && policy.expiresAt > nowMs) at = Math.min(at, policy.expiresAt);
    if (policy.readsTime) readsTime = true;
  }
  if (!readsTime)
    readsTime = Object.values(policies.policies).some((p) => p.effect === "forbid" && p.readsTime);
  if (readsTime) at = Math.min(at, (Math.floor(nowMs / HOUR_MS) + 1) * HOUR_MS);
  return Number.isFinite(at) ? at : undefined;
}
