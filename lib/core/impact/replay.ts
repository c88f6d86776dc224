// Decides a recorded request again under one config (CONTRACT §14): the workload matched from the recorded
// issuer and subject, the task looked up by name, and Cedar asked with the recorded tags and context at the
// recorded time — the same authorizer as the token path. What the record cannot answer (a claim it left
// out, signals never read) is reported as not decidable, never guessed.
import type { ReevaluateDeps } from "../reevaluate.ts";
import { memoizedDecide } from "./decision-memo.ts";
import { type RecordedInput, UNRECORDED_CLAIMS } from "./recorded-input.ts";

/** One config as the replay needs it: built once per config, so its policies are compiled once. */
export type ReplayConfig = Pick<ReevaluateDeps, "config" | "tasks" | "policies" | "workloads" | "authorizer">;

export type Replayed =
  | {
      decided: "allow" | "deny";
      /** The workload the subject maps to under this config; absent when none does. */
      workload?: string;
      /** The policies that decide it: the permits that allow it, or the forbids (or lapsed exceptions) that deny it. */
      policyIds: string[];
      why: string;
    }
  | { notDecidable: string };

/** The tag keys the policies that can apply to a task read, per task, worked out on first use. */
export function tagReader(policies: ReplayConfig["policies"]): (task: string) => Set<string> | "any" {
  const byTask = new Map<string, Set<string> | "any">();
  return (task) => {
    let keys = byTask.get(task);
    if (keys === undefined) {
      const set = new Set<string>();
      keys = set;
      for (const p of Object.values(policies.policies)) {
        if (p.scopedTask !== undefined && p.scopedTask !== task) continue;
        // A bundle compiled before tag keys were recorded: the policy may read any tag.
        if (p.tagKeys === undefined || p.tagKeys === "any") {
          keys = "any";
          break;
        }
        for (const k of p.tagKeys) set.add(k);
      }
      byTask.set(task, keys);
    }
    return keys;
  };
}

/** Why the record cannot decide this request under policies reading `reads`; undefined when it can. */
function missingFact(input: RecordedInput, reads: Set<string> | "any"): string | undefined {
  const omitted = input.omittedClaims ?? [];
  for (const key of omitted)
    if (reads === "any" || reads.has(key)) return `claim ${key} omitted by audit.omitClaims`;
  if (reads !== "any")
    for (const key of UNRECORDED_CLAIMS) if (reads.has(key)) return `claim ${key} is never recorded`;
  if (input.signalsRead === false) {
    const readsSignals = reads === "any" || [...reads].some((k) => k.startsWith("signal:"));
    if (readsSignals) return "signals not read (the workload was refused before the policies)";
  }
  return undefined;
}

export function createReplayer(config: ReplayConfig): (input: RecordedInput) => Replayed {
  const readsFor = tagReader(config.policies);
  const authorizer = memoizedDecide(config.authorizer, config.policies);
  return (input) => {
    const workload = config.workloads.match(input.issuer, input.subject);
    if (!workload) return { decided: "deny", policyIds: [], why: "unregistered workload" };
    if (workload.disabled)
      return { decided: "deny", workload: workload.name, policyIds: [], why: "disabled workload" };
    const task = config.tasks.get(input.task);
    if (!task) return { decided: "deny", workload: workload.name, policyIds: [], why: "unknown task" };
    const missing = missingFact(input, readsFor(task.name));
    if (missing) return { notDecidable: missing };
    const decision = authorizer.decide({
      workload: {
        name: workload.name,
        issuer: workload.issuer,
        subject: input.subject,
        ...(workload.owner !== undefined ? { owner: workload.owner } : {}),
      },
      tags: input.tags,
      task: { name: task.name, provider: task.provider, sensitivity: task.sensitivity },
      context: {
        sourceIp: input.context.sourceIp,
        nowMs: input.context.now * 1000,
        durationSeconds: input.context.durationSeconds,
        purpose: input.context.purpose,
      },
    });
    return {
      decided: decision.allowed ? "allow" : "deny",
      workload: workload.name,
      policyIds: decision.policyIds,
      why: decision.reasons.join("; "),
    };
  };
}
