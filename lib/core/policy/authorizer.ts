// Decides one request with the policy set parsed once per cold start (STYLE.md §7).
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { scopedTaskOf, tagKeysOf } from "./policy-facts.ts";
import type { CompiledPolicies } from "./policy-set.ts";

export interface DecisionInput {
  workload: { name: string; issuer: string; subject: string; owner?: string };
  /** Claims flattened to strings plus signal:<name> tags. */
  tags: Record<string, string>;
  task: { name: string; provider: string; sensitivity: string };
  context: {
    sourceIp: string;
    nowMs: number;
    durationSeconds: number;
    purpose: string;
  };
}

export interface DecisionResult {
  allowed: boolean;
  /** The policies that decided it: the satisfied permits (allow) or forbids (deny). */
  policyIds: string[];
  /** Why, in words an operator can read in the audit trail. */
  reasons: string[];
  /** Policies that errored during evaluation (Cedar skips them); kept for the audit trail. */
  erroredPolicyIds: string[];
  /** On a denial, which kind: the sweep words its revocation reason from it. */
  denial?: "forbidden" | "no-permit" | "exception-expired" | "unevaluable";
}

/** One approver's say on one approval request (CONTRACT §10): `approve`, decided per approval. */
export interface ApprovalDecisionInput {
  approver: { name: string; issuer: string };
  /** The approver token's claims, flattened like a workload's. */
  tags: Record<string, string>;
  task: { name: string; provider: string; sensitivity: string };
  /** `sourceIp` is the approver's own request's (CONTRACT §17: the fields every action shares). */
  context: {
    workload: string;
    owner: string;
    purpose: string;
    requestId: string;
    sourceIp: string;
    nowMs: number;
  };
}

export interface Authorizer {
  decide(input: DecisionInput): DecisionResult;
  /** Whether an approver may approve (or deny) a request for a task; default deny, forbid wins. */
  decideApproval(input: ApprovalDecisionInput): DecisionResult;
}

let counter = 0;

function unionOf(sets: (string[] | "any")[]): Set<string> | "any" {
  const out = new Set<string>();
  for (const s of sets) {
    if (s === "any") return "any";
    for (const k of s) out.add(k);
  }
  return out;
}

export function createAuthorizer(compiled: CompiledPolicies): Authorizer {
  const base = `credbroker-${++counter}`;
  // Cedar gets each policy in its JSON form where the compiled bundle has it (cheaper to parse first).
  const staticPolicies: Record<string, cedar.Policy> = {};
  for (const [id, p] of Object.entries(compiled.policies)) staticPolicies[id] = p.json ?? p.text;

  // Cedar evaluates every policy of the set on each request, so the cost grows with the whole set. A policy
  // scoped `resource == Task::"x"` can only ever match requests for task x (it is never satisfied, never
  // errors, never a reason for any other task), so each task is decided against its own policies plus the
  // unscoped ones: the same answer, at a cost that follows the task's policies. Sets are parsed on first use.
  //
  // Likewise for tags: each one crosses the JS/wasm boundary field by field, and a request carries every
  // claim as a tag. Cedar cannot enumerate tags, only test or read one by key, so when every `hasTag`/`getTag`
  // of a set names its key as a literal, passing just those keys gives the same answer.
  const anyTask: Record<string, cedar.Policy> = {};
  const byTask = new Map<string, Record<string, cedar.Policy>>();
  const tagKeys = new Map<string, string[] | "any">();
  for (const [id, info] of Object.entries(compiled.policies)) {
    let task = info.scopedTask;
    let keys = info.tagKeys;
    if (keys === undefined) {
      // Compiled before these facts were recorded: read them from Cedar's parse of the text.
      const json = cedar.policyToJson(info.text);
      const policyJson = json.type === "success" ? json.json : undefined;
      keys = tagKeysOf(policyJson);
      task = scopedTaskOf(policyJson);
    }
    tagKeys.set(id, keys);
    if (task === undefined) anyTask[id] = staticPolicies[id]!;
    else byTask.set(task, { ...byTask.get(task), [id]: staticPolicies[id]! });
  }
  interface DecidingSet {
    id: string;
    /** The tags its policies can read; undefined: pass them all. */
    tags: string[] | undefined;
  }
  const setOf = (id: string, policies: Record<string, cedar.Policy>): DecidingSet => {
    const keys = unionOf(Object.keys(policies).map((p) => tagKeys.get(p) ?? "any"));
    return { id, tags: keys === "any" ? undefined : [...keys] };
  };
  // The whole set is parsed when first needed (a set without task-scoped policies, or the fallback below):
  // compilePolicies has validated every policy already, and a cold start should not parse it twice.
  let whole: DecidingSet | undefined;
  const wholeSet = (): DecidingSet => {
    if (!whole) {
      const parsed = cedar.preparsePolicySet(base, { staticPolicies });
      if (parsed.type === "failure")
        throw new Error(`policy set does not parse: ${parsed.errors.map((e) => e.message).join("; ")}`);
      whole = setOf(base, staticPolicies);
    }
    return whole;
  };
  const taskSets = new Map<string, DecidingSet>();
  const setFor = (task: string): DecidingSet => {
    if (byTask.size === 0) return wholeSet();
    const key = byTask.has(task) ? `t:${task}` : "any";
    let set = taskSets.get(key);
    if (!set) {
      const setId = `${base}-${taskSets.size + 1}`;
      const policies = { ...anyTask, ...byTask.get(task) };
      const subset = cedar.preparsePolicySet(setId, { staticPolicies: policies });
      // A subset of a set that parsed cannot fail to parse; if it ever did, the whole set still decides.
      if (subset.type === "failure") return wholeSet();
      set = setOf(setId, policies);
      taskSets.set(key, set);
    }
    return set;
  };
  const tagsFor = (set: DecidingSet, all: Record<string, string>): Record<string, string> => {
    if (!set.tags) return all;
    const tags: Record<string, string> = {};
    for (const k of set.tags) if (Object.hasOwn(all, k)) tags[k] = all[k]!;
    return tags;
  };

  return {
    decide(input) {
      const set = setFor(input.task.name);
      const setId = set.id;
      const now = new Date(input.context.nowMs);
      const answer = cedar.statefulIsAuthorized({
        principal: { type: "Workload", id: input.workload.name },
        action: { type: "Action", id: "issue" },
        resource: { type: "Task", id: input.task.name },
        context: {
          sourceIp: { __extn: { fn: "ip", arg: input.context.sourceIp } },
          now: Math.floor(input.context.nowMs / 1000),
          hourUtc: now.getUTCHours(),
          weekdayUtc: now.getUTCDay(),
          durationSeconds: input.context.durationSeconds,
          purpose: input.context.purpose,
        },
        preparsedPolicySetId: setId,
        entities: [
          {
            uid: { type: "Workload", id: input.workload.name },
            attrs: {
              name: input.workload.name,
              issuer: input.workload.issuer,
              subject: input.workload.subject,
              ...(input.workload.owner !== undefined ? { owner: input.workload.owner } : {}),
            },
            parents: [],
            tags: tagsFor(set, input.tags),
          },
          {
            uid: { type: "Task", id: input.task.name },
            attrs: {
              name: input.task.name,
              provider: input.task.provider,
              sensitivity: input.task.sensitivity,
            },
            parents: [],
          },
        ],
      });
      if (answer.type === "failure") {
        // A request Cedar cannot evaluate (e.g. a malformed source address) is a denial, never an allow.
        return {
          allowed: false,
          policyIds: [],
          reasons: ["request could not be evaluated"],
          erroredPolicyIds: [],
          denial: "unevaluable",
        };
      }
      const { decision, diagnostics } = answer.response;
      const erroredPolicyIds = diagnostics.errors.map((e) => e.policyId);
      if (decision === "deny") {
        const forbids = diagnostics.reason;
        return {
          allowed: false,
          policyIds: forbids,
          reasons:
            forbids.length > 0
              ? forbids.map((id) => `forbidden by ${id}`)
              : ["no policy permits this request"],
          erroredPolicyIds,
          denial: forbids.length > 0 ? "forbidden" : "no-permit",
        };
      }
      // An exception past its @expires no longer counts: allow only if some other permit still holds.
      const live = diagnostics.reason.filter((id) => {
        const expiresAt = compiled.policies[id]?.expiresAt;
        return expiresAt === undefined || input.context.nowMs < expiresAt;
      });
      if (live.length === 0) {
        return {
          allowed: false,
          policyIds: diagnostics.reason,
          reasons: diagnostics.reason.map((id) => `exception ${id} expired`),
          erroredPolicyIds,
          denial: "exception-expired",
        };
      }
      return {
        allowed: true,
        policyIds: live,
        reasons: live.map((id) => `permitted by ${id}`),
        erroredPolicyIds,
      };
    },

    decideApproval(input) {
      const now = new Date(input.context.nowMs);
      const answer = cedar.statefulIsAuthorized({
        principal: { type: "Approver", id: input.approver.name },
        action: { type: "Action", id: "approve" },
        resource: { type: "Task", id: input.task.name },
        context: {
          workload: input.context.workload,
          owner: input.context.owner,
          purpose: input.context.purpose,
          requestId: input.context.requestId,
          sourceIp: { __extn: { fn: "ip", arg: input.context.sourceIp } },
          now: Math.floor(input.context.nowMs / 1000),
          hourUtc: now.getUTCHours(),
          weekdayUtc: now.getUTCDay(),
        },
        // Every approver tag is passed: the tag narrowing above is for workloads' claims on the hot path.
        preparsedPolicySetId: setFor(input.task.name).id,
        entities: [
          {
            uid: { type: "Approver", id: input.approver.name },
            attrs: { name: input.approver.name, issuer: input.approver.issuer },
            parents: [],
            tags: input.tags,
          },
          {
            uid: { type: "Task", id: input.task.name },
            attrs: {
              name: input.task.name,
              provider: input.task.provider,
              sensitivity: input.task.sensitivity,
            },
            parents: [],
          },
        ],
      });
      if (answer.type === "failure")
        return {
          allowed: false,
          policyIds: [],
          reasons: ["approval could not be evaluated"],
          erroredPolicyIds: [],
          denial: "unevaluable",
        };
      const { decision, diagnostics } = answer.response;
      const erroredPolicyIds = diagnostics.errors.map((e) => e.policyId);
      // An exception past its @expires no longer permits approvals either.
      const live = diagnostics.reason.filter((id) => {
        const expiresAt = compiled.policies[id]?.expiresAt;
        return expiresAt === undefined || input.context.nowMs < expiresAt;
      });
      if (decision === "allow" && live.length > 0)
        return {
          allowed: true,
          policyIds: live,
          reasons: live.map((id) => `permitted by ${id}`),
          erroredPolicyIds,
        };
      const forbids = decision === "deny" ? diagnostics.reason : [];
      return {
        allowed: false,
        policyIds: forbids,
        reasons:
          forbids.length > 0
            ? forbids.map((id) => `forbidden by ${id}`)
            : ["no policy permits this approver"],
        erroredPolicyIds,
        denial: forbids.length > 0 ? "forbidden" : "no-permit",
      };
    },
  };
}
