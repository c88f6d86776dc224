// Figure 3: the cost of one policy decision with the policy set parsed once, at 10, 100 and 1,000
// policies. Cedar evaluates every policy whose scope matches, so the set is a realistic mix: identity
// permits on claims, time-window permits, network forbids and signal forbids, most scoped to other tasks.
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { decisionInput } from "../lib/core/decision.ts";
import { claimsToTags } from "../lib/core/identity/claims.ts";
import { createAuthorizer } from "../lib/core/policy/authorizer.ts";
import { compilePolicies } from "../lib/core/policy/policy-set.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { type CallCost, microsPerCall, pairedMicros, round } from "./stats.ts";

export interface DecisionFigures {
  decisionMicros10: number;
  decisionMicros100: number;
  decisionMicros1000: number;
  /** The 10th percentile of the same batches: the decision itself, with little interference. */
  decisionMicros10P10: number;
  decisionMicros100P10: number;
  decisionMicros1000P10: number;
  /** Time to validate and pre-parse the 1,000-policy set once (cold-start work, not per request). */
  compileMs1000: number;
  /**
   * CONTRACT §12: the authorizer's `decide` over a bare `statefulIsAuthorized` call with the same policies,
   * entities and context, at 100 policies, measured side by side. "The same policies" are the ones Cedar
   * evaluates for the request's task (the task's own plus the unscoped ones), preparsed once.
   */
  decisionOverheadRatio: number;
  decisionBareMicros100: number;
  decisionPairedMicros100: number;
  /** The bare call over the whole 100-policy set instead: what deciding per task saves. */
  decisionBareWholeSetMicros100: number;
}

/** `count` policies; the last one permits the benchmark's request, so every decision is an allow. */
export function generatePolicies(count: number): string {
  return policyTexts(count).join("\n\n");
}

/** The same policies one by one. */
export function policyTexts(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count - 1; i++) {
    const task = `Task::"task-${i % 50}"`;
    switch (i % 4) {
      case 0:
        out.push(`@id("p${i}") permit (principal, action == Action::"issue", resource == ${task})
when { principal.hasTag("repository") && principal.getTag("repository") == "acme/repo-${i}" };`);
        break;
      case 1:
        out.push(`@id("p${i}") permit (principal == Workload::"wl-${i}", action == Action::"issue", resource == ${task})
when { context.hourUtc >= 6 && context.hourUtc < 20 && context.purpose != "" };`);
        break;
      case 2:
        out.push(`@id("p${i}") forbid (principal, action == Action::"issue", resource)
when { resource.sensitivity == "critical" && principal.hasTag("ref") && principal.getTag("ref") == "refs/heads/dev-${i}" };`);
        break;
      default:
        out.push(`@id("p${i}") forbid (principal, action, resource)
when { principal.hasTag("signal:flag-${i}") && principal.getTag("signal:flag-${i}") == "true" };`);
    }
  }
  out.push(`@id("web-deploys-from-main") permit (principal, action == Action::"issue", resource == Task::"deploy-web")
when { principal.name == "web-ci" && principal.hasTag("ref") && principal.getTag("ref") == "refs/heads/main" &&
  context.sourceIp.isInRange(ip("10.0.0.0/8")) };`);
  return out;
}

const benchInput = () =>
  decisionInput({
    workload: { name: "web-ci", issuer: "github", owner: "team-web@acme.example" },
    subject: "repo:acme/web:ref:refs/heads/main",
    claimTags: claimsToTags(GITHUB_LIKE_CLAIMS),
    signals: { "flag-3": "false" },
    task: { name: "deploy-web", provider: "aws-sts", sensitivity: "high" },
    context: {
      sourceIp: "10.1.2.3",
      durationSeconds: 900,
      purpose: "release 412",
      nowMs: Date.parse("2026-11-30T10:00:00Z"),
    },
  });

/** The call the authorizer makes, written out by hand: the floor `decide` is measured against. */
function bareCall(setId: string, input: ReturnType<typeof benchInput>): cedar.StatefulAuthorizationCall {
  const now = new Date(input.context.nowMs);
  return {
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
          owner: input.workload.owner!,
        },
        parents: [],
        tags: input.tags,
      },
      {
        uid: { type: "Task", id: input.task.name },
        attrs: { name: input.task.name, provider: input.task.provider, sensitivity: input.task.sensitivity },
        parents: [],
      },
    ],
  };
}

async function overhead(count: number, minMs: number) {
  const texts = policyTexts(count);
  const authorizer = createAuthorizer(
    compilePolicies([{ file: `bench-${count}.cedar`, text: texts.join("\n\n") }]),
  );
  const input = benchInput();
  const ids = (list: string[]) => Object.fromEntries(list.map((t) => [/@id\("([^"]+)"\)/.exec(t)![1]!, t]));
  // What the authorizer evaluates for deploy-web: the policies scoped to it and the unscoped ones.
  const forTask = texts.filter((t) => !t.includes('resource == Task::"') || t.includes('Task::"deploy-web"'));
  const parse = (id: string, staticPolicies: Record<string, string>) => {
    const r = cedar.preparsePolicySet(id, { staticPolicies });
    if (r.type === "failure") throw new Error(`bench policies do not parse: ${JSON.stringify(r.errors)}`);
    return id;
  };
  const taskCall = bareCall(parse(`bench-bare-${count}`, ids(forTask)), input);
  const wholeCall = bareCall(parse(`bench-bare-all-${count}`, ids(texts)), input);
  const bare = () => {
    const r = cedar.statefulIsAuthorized(taskCall);
    if (r.type !== "success" || r.response.decision !== "allow") throw new Error("bare call did not allow");
  };
  bare();
  const paired = await pairedMicros(() => authorizer.decide(input), bare, { minMs });
  const whole = microsPerCall(() => cedar.statefulIsAuthorized(wholeCall), { minMs: minMs / 4 });
  return { decide: paired.a.median, bare: paired.b.median, whole: whole.median };
}

function decisionCost(count: number, minMs: number): { micros: CallCost; compileMs: number } {
  const t0 = performance.now();
  const authorizer = createAuthorizer(
    compilePolicies([{ file: `bench-${count}.cedar`, text: generatePolicies(count) }]),
  );
  const compileMs = performance.now() - t0;
  const input = benchInput();
  const first = authorizer.decide(input);
  if (!first.allowed) throw new Error(`decision benchmark request was denied: ${first.reasons.join("; ")}`);
  return {
    micros: microsPerCall(() => authorizer.decide(input), { minMs }),
    compileMs,
  };
}

export async function benchDecision(options: { minMs?: number } = {}): Promise<DecisionFigures> {
  const minMs = options.minMs ?? 2_000;
  const d10 = decisionCost(10, minMs);
  const d100 = decisionCost(100, minMs);
  const d1000 = decisionCost(1000, minMs);
  const o = await overhead(100, 2 * minMs);
  return {
    decisionOverheadRatio: round(o.decide / o.bare, 3),
    decisionBareMicros100: round(o.bare, 1),
    decisionPairedMicros100: round(o.decide, 1),
    decisionBareWholeSetMicros100: round(o.whole, 1),
    decisionMicros10: round(d10.micros.median, 1),
    decisionMicros100: round(d100.micros.median, 1),
    decisionMicros1000: round(d1000.micros.median, 1),
    decisionMicros10P10: round(d10.micros.p10, 1),
    decisionMicros100P10: round(d100.micros.p10, 1),
    decisionMicros1000P10: round(d1000.micros.p10, 1),
    compileMs1000: round(d1000.compileMs, 0),
  };
}
