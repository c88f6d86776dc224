// The replay's memo answers a repeat only when Cedar's answer could not differ: the same task, principal,
// read tags and context, with time in the key when a policy reads it and lapsed exceptions otherwise.
import { describe, expect, it } from "vitest";
import { memoizedDecide } from "../../lib/core/impact/decision-memo.ts";
import { createAuthorizer, type DecisionInput } from "../../lib/core/policy/authorizer.ts";
import { compilePolicies } from "../../lib/core/policy/policy-set.ts";

const T = Date.parse("2026-11-30T10:00:00Z");
const request = (nowMs: number, tags: Record<string, string> = {}): DecisionInput => ({
  workload: { name: "w", issuer: "t", subject: "s" },
  tags: { repository: "acme/web", run_id: String(nowMs), ...tags },
  task: { name: "task", provider: "jwt", sensitivity: "low" },
  context: { sourceIp: "10.0.0.1", nowMs, durationSeconds: 60, purpose: "" },
});

const memo = (text: string) => {
  const policies = compilePolicies([{ file: "p.cedar", text }]);
  return memoizedDecide(createAuthorizer(policies), policies);
};

describe("the replay's decision memo", () => {
  it("answers a repeat that differs only in tags and time no policy reads from memory", () => {
    const m = memo(
      `@id("p") permit (principal, action == Action::"issue", resource) when { principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };`,
    );
    expect(m.decide(request(T)).allowed).toBe(true);
    expect(m.decide(request(T + 3_600_000)).allowed).toBe(true);
    expect(m.hits).toBe(1);
    // A tag the policy reads is part of the key.
    expect(m.decide(request(T, { repository: "acme/other" })).allowed).toBe(false);
    expect(m.hits).toBe(1);
  });

  it("tells decisions either side of an exception's expiry apart", () => {
    const m = memo(`@id("x") @exception("T-1") @expires("2026-11-30T11:00:00Z")
      permit (principal, action == Action::"issue", resource);`);
    expect(m.decide(request(T)).allowed).toBe(true);
    expect(m.decide(request(T + 2 * 3_600_000))).toMatchObject({
      allowed: false,
      denial: "exception-expired",
    });
  });

  it("keys on the time when a policy reads it", () => {
    const m = memo(
      `@id("h") permit (principal, action == Action::"issue", resource) when { context.hourUtc < 11 };`,
    );
    expect(m.decide(request(T)).allowed).toBe(true);
    expect(m.decide(request(T + 3_600_000)).allowed).toBe(false);
    expect(m.hits).toBe(0);
  });
});
