// The authorizer decides each task against the policies that can apply to it (its `resource ==` policies
// plus the unscoped ones), passing only the tags those policies can read. That must never change an answer:
// every decision is compared with Cedar evaluating the whole set at once with every tag. The authorizer gives
// Cedar the policies in their compiled JSON form, the reference gets the texts, so the two forms are compared too.
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createAuthorizer, type DecisionInput } from "../../lib/core/policy/authorizer.ts";
import { compilePolicies } from "../../lib/core/policy/policy-set.ts";

const TASKS = ["deploy", "read", "admin"];
const WORKLOADS = ["web-ci", "batch"];

const resourceScope = fc.constantFrom(
  "resource",
  ...TASKS.map((t) => `resource == Task::"${t}"`),
  `resource in Task::"read"`,
  "resource is Task",
);
const principalScope = fc.constantFrom("principal", ...WORKLOADS.map((w) => `principal == Workload::"${w}"`));
const condition = fc.constantFrom(
  "true",
  `principal.hasTag("team") && principal.getTag("team") == "web"`,
  `principal.hasTag("signal:flagged") && principal.getTag("signal:flagged") == "true"`,
  `resource.sensitivity == "high"`,
  "context.hourUtc >= 9 && context.hourUtc < 17",
  `context.sourceIp.isInRange(ip("10.0.0.0/8"))`,
  // A computed tag key: the authorizer must then pass every tag, not only those named by a literal.
  "principal.hasTag(resource.sensitivity)",
  // Overflows at evaluation: Cedar skips the policy and reports it as errored, for matching tasks only.
  "context.durationSeconds * 9223372036854775807 > 0",
);
const policy = fc.record({
  effect: fc.constantFrom("permit", "forbid"),
  principal: principalScope,
  resource: resourceScope,
  when: condition,
});

const request = fc.record({
  task: fc.constantFrom(...TASKS, "unlisted"),
  workload: fc.constantFrom(...WORKLOADS),
  sensitivity: fc.constantFrom("low", "high"),
  hour: fc.integer({ min: 0, max: 23 }),
  ip: fc.constantFrom("10.1.2.3", "192.168.0.9"),
  // "high" is read only through the computed key above; "other" by no policy at all.
  tags: fc.dictionary(
    fc.constantFrom("team", "signal:flagged", "high", "other"),
    fc.constantFrom("web", "ops", "true"),
  ),
});

interface Request {
  task: string;
  workload: string;
  sensitivity: string;
  hour: number;
  ip: string;
  tags: Record<string, string>;
}

function input(r: Request): DecisionInput {
  return {
    workload: { name: r.workload, issuer: "github", subject: `repo:acme/${r.workload}` },
    tags: r.tags,
    task: { name: r.task, provider: "jwt", sensitivity: r.sensitivity },
    context: { sourceIp: r.ip, nowMs: Date.UTC(2026, 10, 30, r.hour), durationSeconds: 300, purpose: "" },
  };
}

/** Cedar on the whole set, with the same request the authorizer builds. */
function wholeSet(policies: Record<string, string>, i: DecisionInput) {
  const answer = cedar.isAuthorized({
    principal: { type: "Workload", id: i.workload.name },
    action: { type: "Action", id: "issue" },
    resource: { type: "Task", id: i.task.name },
    context: {
      sourceIp: { __extn: { fn: "ip", arg: i.context.sourceIp } },
      now: Math.floor(i.context.nowMs / 1000),
      hourUtc: new Date(i.context.nowMs).getUTCHours(),
      weekdayUtc: new Date(i.context.nowMs).getUTCDay(),
      durationSeconds: i.context.durationSeconds,
      purpose: i.context.purpose,
    },
    policies: { staticPolicies: policies },
    entities: [
      {
        uid: { type: "Workload", id: i.workload.name },
        attrs: { name: i.workload.name, issuer: i.workload.issuer, subject: i.workload.subject },
        parents: [],
        tags: i.tags,
      },
      {
        uid: { type: "Task", id: i.task.name },
        attrs: { name: i.task.name, provider: i.task.provider, sensitivity: i.task.sensitivity },
        parents: [],
      },
    ],
  });
  if (answer.type === "failure") throw new Error(answer.errors.map((e) => e.message).join("; "));
  return answer.response;
}

describe("task-scoped policy sets", () => {
  it("decide exactly as Cedar does on the whole set with every tag: decision, deciding and erroring policies", () => {
    fc.assert(
      fc.property(
        fc.array(policy, { minLength: 1, maxLength: 12 }),
        fc.array(request, { minLength: 1, maxLength: 8 }),
        (specs, requests) => {
          const texts = specs.map(
            (p, n) =>
              `@id("p${n}") ${p.effect} (${p.principal}, action == Action::"issue", ${p.resource}) when { ${p.when} };`,
          );
          const compiled = compilePolicies([{ file: "gen.cedar", text: texts.join("\n") }]);
          const authorizer = createAuthorizer(compiled);
          // A bundle compiled before the scope and tag facts were recorded: the authorizer reads them itself.
          const older = createAuthorizer({
            policies: Object.fromEntries(
              Object.entries(compiled.policies).map(
                ([id, { scopedTask: _s, tagKeys: _t, json: _j, ...info }]) => [id, info],
              ),
            ),
          });
          const byId = Object.fromEntries(texts.map((t, n) => [`p${n}`, t]));
          for (const r of requests) {
            const i = input(r);
            const ours = authorizer.decide(i);
            const theirs = wholeSet(byId, i);
            // Cedar lists deciding policies in no fixed order, so they are compared as sets.
            const sorted = (d: typeof ours) => ({
              ...d,
              policyIds: [...d.policyIds].sort(),
              reasons: [...d.reasons].sort(),
              erroredPolicyIds: [...d.erroredPolicyIds].sort(),
            });
            expect(sorted(older.decide(i))).toEqual(sorted(ours));
            expect(ours.allowed).toBe(theirs.decision === "allow");
            expect([...ours.policyIds].sort()).toEqual([...theirs.diagnostics.reason].sort());
            expect([...ours.erroredPolicyIds].sort()).toEqual(
              theirs.diagnostics.errors.map((e) => e.policyId).sort(),
            );
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("still applies an unscoped forbid to a task that has scoped permits", () => {
    const authorizer = createAuthorizer(
      compilePolicies([
        {
          file: "p.cedar",
          text: `@id("deployers") permit (principal, action == Action::"issue", resource == Task::"deploy");
@id("quarantine") forbid (principal, action, resource) when { principal.hasTag("signal:flagged") };`,
        },
      ]),
    );
    const base = input({
      task: "deploy",
      workload: "web-ci",
      sensitivity: "high",
      hour: 10,
      ip: "10.1.2.3",
      tags: {},
    });
    expect(authorizer.decide(base)).toMatchObject({ allowed: true, policyIds: ["deployers"] });
    expect(authorizer.decide({ ...base, tags: { "signal:flagged": "true" } })).toMatchObject({
      allowed: false,
      policyIds: ["quarantine"],
    });
    expect(authorizer.decide({ ...base, task: { ...base.task, name: "read" } })).toMatchObject({
      allowed: false,
      policyIds: [],
    });
  });

  it("ships Cedar's JSON form only where it is exact: a long beyond 2^53 is parsed from the text", () => {
    const compiled = compilePolicies([
      {
        file: "p.cedar",
        text: `@id("short") permit (principal, action == Action::"issue", resource == Task::"deploy") when { context.durationSeconds < 3600 };
@id("huge") forbid (principal, action == Action::"issue", resource == Task::"read") when { context.durationSeconds > 9007199254740993 };`,
      },
    ]);
    expect(compiled.policies["short"]?.json).toBeDefined();
    expect(compiled.policies["huge"]?.json).toBeUndefined();
    const authorizer = createAuthorizer(compiled);
    const base = input({
      task: "deploy",
      workload: "web-ci",
      sensitivity: "low",
      hour: 10,
      ip: "10.1.2.3",
      tags: {},
    });
    expect(authorizer.decide(base)).toMatchObject({ allowed: true, policyIds: ["short"] });
    // Its JSON form would not parse (the long arrives rounded): from the text, the read task's set parses
    // and decides. 300 s is not above the literal, so nothing forbids and nothing permits.
    expect(authorizer.decide({ ...base, task: { ...base.task, name: "read" } })).toMatchObject({
      allowed: false,
      policyIds: [],
      erroredPolicyIds: [],
    });
  });
});
