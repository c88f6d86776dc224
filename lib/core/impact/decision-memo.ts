// Replayed decisions repeat: a pipeline asks for the same task with the same claims run after run, and what
// differs between its requests (a run id, a commit, the time) is mostly what no policy reads. The memo
// keys a decision on exactly what Cedar's answer can depend on — the task, the principal, the tags the
// task's policies can read (the authorizer passes Cedar no others), the source address, duration and
// purpose, and the time only when a policy reads it (the `readsTime` the sweep's rechecks already rely on);
// otherwise only which exceptions have lapsed — so a repeat is answered without asking Cedar again. It is
// bounded: memory stays flat however long the period.
import type { Authorizer, DecisionInput, DecisionResult } from "../policy/authorizer.ts";
import type { CompiledPolicies } from "../policy/policy-set.ts";

const MAX_ENTRIES = 10_000;

interface TaskFacts {
  /** The tag keys its policies can read; undefined: any tag. */
  tags: string[] | undefined;
  readsTime: boolean;
  exceptions: { id: string; expiresAt: number }[];
}

export function memoizedDecide(
  authorizer: Authorizer,
  policies: CompiledPolicies,
): { decide(input: DecisionInput): DecisionResult; readonly hits: number } {
  const facts = new Map<string, TaskFacts>();
  const factsOf = (task: string): TaskFacts => {
    let f = facts.get(task);
    if (!f) {
      const keys = new Set<string>();
      let anyTag = false;
      let readsTime = false;
      const exceptions: TaskFacts["exceptions"] = [];
      for (const p of Object.values(policies.policies)) {
        if (p.scopedTask !== undefined && p.scopedTask !== task) continue;
        if (p.tagKeys === undefined || p.tagKeys === "any") anyTag = true;
        else for (const k of p.tagKeys) keys.add(k);
        if (p.readsTime) readsTime = true;
        if (p.expiresAt !== undefined) exceptions.push({ id: p.id, expiresAt: p.expiresAt });
      }
      f = { tags: anyTag ? undefined : [...keys].sort(), readsTime, exceptions };
      facts.set(task, f);
    }
    return f;
  };
  const memo = new Map<string, DecisionResult>();
  let hits = 0;
  return {
    get hits() {
      return hits;
    },
    decide(input) {
      const f = factsOf(input.task.name);
      const tags = f.tags
        ? f.tags.map((k) => (Object.hasOwn(input.tags, k) ? [k, input.tags[k]] : [k]))
        : Object.entries(input.tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const { context } = input;
      const time = f.readsTime
        ? Math.floor(context.nowMs / 1000)
        : f.exceptions.filter((e) => context.nowMs >= e.expiresAt).map((e) => e.id);
      const key = JSON.stringify([
        input.task,
        input.workload,
        tags,
        context.sourceIp,
        context.durationSeconds,
        context.purpose,
        time,
      ]);
      const known = memo.get(key);
      if (known) {
        hits++;
        return known;
      }
      const result = authorizer.decide(input);
      if (memo.size >= MAX_ENTRIES) memo.clear();
      memo.set(key, result);
      return result;
    },
  };
}
