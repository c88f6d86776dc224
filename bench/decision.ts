// Figure 3: the cost of one policy decision with the policy set parsed once, at 10, 100 and 1,000
// policies. Cedar evaluates every policy whose scope matches, so the set is a realistic mix: identity
// permits on claims, time-window permits, network forbids and signal forbids, most scoped to other tasks.
import { decisionInput } from "../lib/core/decision.ts";
import { claimsToTags } from "../lib/core/identity/claims.ts";
import { createAuthorizer } from "../lib/core/policy/authorizer.ts";
import { compilePolicies } from "../lib/core/policy/policy-set.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { type CallCost, microsPerCall, round } from "./stats.ts";

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
}

/** `count` policies; the last one permits the benchmark's request, so every decision is an allow. */
export function generatePolicies(count: number): string {
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
  return out.join("\n\n");
}

function decisionCost(count: number, minMs: number): { micros: CallCost; compileMs: number } {
  const t0 = performance.now();
  const authorizer = createAuthorizer(
    compilePolicies([{ file: `bench-${count}.cedar`, text: generatePolicies(count) }]),
  );
  const compileMs = performance.now() - t0;
  const input = decisionInput({
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
  const first = authorizer.decide(input);
  if (!first.allowed) throw new Error(`decision benchmark request was denied: ${first.reasons.join("; ")}`);
  return {
    micros: microsPerCall(() => authorizer.decide(input), { minMs }),
    compileMs,
  };
}

export function benchDecision(options: { minMs?: number } = {}): DecisionFigures {
  const minMs = options.minMs ?? 2_000;
  const d10 = decisionCost(10, minMs);
  const d100 = decisionCost(100, minMs);
  const d1000 = decisionCost(1000, minMs);
  return {
    decisionMicros10: round(d10.micros.median, 1),
    decisionMicros100: round(d100.micros.median, 1),
    decisionMicros1000: round(d1000.micros.median, 1),
    decisionMicros10P10: round(d10.micros.p10, 1),
    decisionMicros100P10: round(d100.micros.p10, 1),
    decisionMicros1000P10: round(d1000.micros.p10, 1),
    compileMs1000: round(d1000.compileMs, 0),
  };
}
