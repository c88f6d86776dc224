// What a decision's recorded input keeps and leaves out, and what a replay refuses to guess from it.
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { recordDecision, recordRefusal } from "../../lib/core/impact/recorded-input.ts";
import { createReplayer } from "../../lib/core/impact/replay.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { buildDecidingDeps } from "../../lib/runtime/broker-deps.ts";

const NOW = Date.parse("2026-11-30T10:00:00Z");
const input = (tags: Record<string, string>) => ({
  workload: { name: "w", issuer: "t", subject: "s" },
  tags,
  task: { name: "task", provider: "jwt", sensitivity: "low" },
  context: { sourceIp: "10.0.0.1", nowMs: NOW + 999, durationSeconds: 60, purpose: "p" },
});

describe("recordDecision", () => {
  it("leaves out per-token claims and the omitted ones with the claims nested under them, keeping signals", () => {
    const recorded = recordDecision(
      input({
        sub: "s",
        jti: "j",
        iat: "1",
        nbf: "1",
        exp: "2",
        email: "a@b.test",
        "email.verified": "true",
        emailer: "kept",
        "signal:email": "flagged",
        "": "nameless",
      }),
      "t",
      true,
      ["email"],
    );
    expect(recorded.tags).toEqual({ sub: "s", emailer: "kept", "signal:email": "flagged" });
    expect(recorded.omittedClaims).toEqual(["", "email", "email.verified"]);
    expect(recorded.context).toEqual({
      sourceIp: "10.0.0.1",
      now: Math.floor(NOW / 1000),
      hourUtc: 10,
      weekdayUtc: 1,
      durationSeconds: 60,
      purpose: "p",
    });
    expect(recorded.decided).toBe("allow");
  });

  it("marks a refusal's input as decided without reading signals", () => {
    const recorded = recordRefusal(
      { issuer: "t", subject: "s", task: "task", claimTags: { sub: "s" }, context: input({}).context },
      [],
    );
    expect(recorded).toMatchObject({ decided: "deny", signalsRead: false, tags: { sub: "s" } });
    expect(recorded).not.toHaveProperty("workload");
    expect(recorded).not.toHaveProperty("omittedClaims");
  });
});

describe("a replay", () => {
  const replayer = (policies: string) => {
    const resolved = resolveConfig(
      {
        version: 1,
        audience: "a",
        issuerUrl: "https://broker.test",
        issuers: [{ name: "t", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
        workloads: [{ name: "w", issuer: "t", subject: "s" }],
        tasks: [{ name: "task", provider: "jwt", audience: "x", sensitivity: "low" }],
        policies: ["p.cedar"],
      },
      [{ file: "p.cedar", text: policies }],
      "test",
    );
    return createReplayer(buildDecidingDeps(resolved, { store: {} as GrantStore }));
  };

  it.each([
    [
      "a computed tag key, with a claim omitted",
      `@id("p") permit (principal, action == Action::"issue", resource) when { principal.hasTag(context.purpose) };`,
      "claim email omitted by audit.omitClaims",
    ],
    [
      "a per-token claim",
      `@id("p") permit (principal, action == Action::"issue", resource) when { principal.hasTag("iat") };`,
      "claim iat is never recorded",
    ],
  ])("refuses to guess a policy reading %s", async (_what, policies, reason) => {
    const replay = replayer(policies);
    const recorded = recordDecision(input({ sub: "s", email: "x@y.test" }), "t", false, ["email"]);
    expect(replay(recorded)).toEqual({ notDecidable: reason });
  });

  it("refuses to guess signals a refused request never read, once a policy reads signals", async () => {
    const replay = replayer(
      `@id("p") permit (principal, action == Action::"issue", resource);
       @id("q") forbid (principal, action, resource) when { principal.hasTag("signal:quarantined") };`,
    );
    const refused = recordRefusal(
      { issuer: "t", subject: "s", task: "task", claimTags: {}, context: input({}).context },
      [],
    );
    expect(replay(refused)).toEqual({
      notDecidable: "signals not read (the workload was refused before the policies)",
    });
    // Decided once the record holds the signals as read.
    expect(replay(recordDecision(input({ "signal:quarantined": "true" }), "t", false, []))).toMatchObject({
      decided: "deny",
      policyIds: ["q"],
    });
  });
});
