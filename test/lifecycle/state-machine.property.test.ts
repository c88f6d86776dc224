// Property: whatever interleaving of issue, activate, expire, revoke, release and sweep steps runs (some
// of them concurrently), a grant only ever takes the contract's statuses along TRANSITIONS, never leaves a
// final status, and leaves `active` at most once in the audit trail.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock, isoSeconds } from "../../lib/core/clock.ts";
import type { BrokerDeps } from "../../lib/core/deps.ts";
import { FINAL_STATUSES, type Grant, type GrantStatus, isFinal, TRANSITIONS } from "../../lib/core/grant.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { TransitionConflict } from "../../lib/core/store.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW, newStore, type TestBroker } from "../support/broker.ts";
import { activeGrant } from "./support.ts";

const STATUSES: GrantStatus[] = ["issuing", "active", "expired", "revoked", "failed"];
const POOL = 4;

type Step =
  | { op: "issue" | "activate" | "fail" | "expire" | "revoke" | "release"; g: number }
  | { op: "sweep"; advanceMs: number }
  | { op: "force"; g: number; from: GrantStatus; to: GrantStatus }
  | { op: "together"; a: Step; b: Step };

const g = fc.integer({ min: 0, max: POOL - 1 });
const single: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constantFrom("issue", "activate", "fail", "expire", "revoke", "release"),
    g,
  }) as fc.Arbitrary<Step>,
  fc.record({
    op: fc.constant("sweep" as const),
    advanceMs: fc.constantFrom(0, 30_000, 61_000, 301_000, 901_000),
  }),
  fc.record({
    op: fc.constant("force" as const),
    g,
    from: fc.constantFrom(...STATUSES),
    to: fc.constantFrom(...STATUSES),
  }),
);
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: single },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("together" as const), a: single, b: single }) },
);

/** Statuses reachable from `from` by legal transitions, including itself. */
function reachable(from: GrantStatus): Set<GrantStatus> {
  const out = new Set<GrantStatus>([from]);
  for (const next of TRANSITIONS[from]) for (const s of reachable(next)) out.add(s);
  return out;
}

let broker: TestBroker;
beforeAll(async () => {
  broker = await createTestBroker();
});
afterAll(closeSharedDynamo);

const iamStub: CredentialProvider = {
  prepare: () => {
    throw new Error("not used");
  },
  issue: () => Promise.reject(new Error("not used")),
  revoke: async () => "grant-listed",
  prune: async () => {},
};

async function runSteps(steps: Step[]): Promise<void> {
  const store = await newStore();
  const clock = fixedClock(NOW);
  const deps: BrokerDeps = {
    ...broker.deps,
    store,
    clock,
    providers: { ...broker.deps.providers, "aws-sts": iamStub },
  };
  const grants: (Grant | undefined)[] = Array.from({ length: POOL }, () => undefined);
  const observed = new Map<number, GrantStatus>();
  const tolerate = (err: unknown) => {
    // Another actor moved it first, or the store refused an illegal transition: both are the point.
    if (
      err instanceof TransitionConflict ||
      (err instanceof TypeError && /is not allowed/.test(err.message)) ||
      (err as Error).name === "ConditionalCheckFailedException"
    )
      return;
    throw err;
  };

  const exec = async (s: Step): Promise<void> => {
    if (s.op === "together") {
      await Promise.all([exec(s.a), exec(s.b)]);
      return;
    }
    if (s.op === "sweep") {
      clock.advance(s.advanceMs);
      await sweepDue(deps);
      return;
    }
    const now = clock.now();
    if (s.op === "issue") {
      const grant = activeGrant({
        status: "issuing",
        issuedAt: isoSeconds(now),
        provider: s.g % 2 === 0 ? "jwt" : "aws-sts",
        configVersion: deps.configVersion,
      });
      if (grants[s.g]) {
        // A second record under the same id must never replace the first.
        await store.createGrant({ ...grant, grantId: grants[s.g]!.grantId }, now).then(() => {
          throw new Error("createGrant overwrote an existing grant");
        }, tolerate);
        return;
      }
      grants[s.g] = grant;
      await store.createGrant(grant, now + 60_000);
      return;
    }
    const grant = grants[s.g];
    if (!grant) return;
    // A step running alongside this grant's issue may arrive before the record exists: nothing to act on.
    const current = await store.getGrant(grant.grantId);
    if (!current) return;
    try {
      switch (s.op) {
        case "activate":
          await store.transition(grant.grantId, "issuing", "active", {
            expiresAt: isoSeconds(now + 300_000),
            dueAtMs: now + 300_000,
          });
          return;
        case "fail":
          await store.transition(grant.grantId, "issuing", "failed", {
            reason: "issue failed",
            dueAtMs: null,
          });
          return;
        case "expire":
          await store.transition(grant.grantId, "active", "expired", { dueAtMs: null });
          return;
        case "revoke":
          await revokeGrant(deps, current, { reason: "admin", kind: "admin" });
          return;
        case "release":
          await revokeGrant(deps, current, { reason: "released", kind: "revoke", outcome: "release" });
          return;
        case "force":
          await store.transition(grant.grantId, s.from, s.to, {});
          return;
      }
    } catch (err) {
      tolerate(err);
    }
  };

  for (const s of steps) {
    await exec(s);
    for (let i = 0; i < POOL; i++) {
      if (!grants[i]) continue;
      const now = (await store.getGrant(grants[i]!.grantId))!.status;
      expect(STATUSES).toContain(now);
      const before = observed.get(i);
      if (before) {
        if (isFinal(before)) expect(now, `grant ${i} left final status ${before}`).toBe(before);
        expect(reachable(before).has(now), `grant ${i}: ${before} -> ${now}`).toBe(true);
      }
      observed.set(i, now);
    }
  }

  // The audit trail agrees: at most one event ends an active grant, at most one fails an issuing one.
  const events = (await store.listAudit({ sinceMs: NOW - 1_000, untilMs: clock.now() + 1_000 })).items;
  for (const grant of grants) {
    if (!grant) continue;
    const mine = events.filter((e) => e.grantId === grant.grantId);
    expect(
      mine.filter((e) => ["expire", "revoke", "release"].includes(e.outcome)).length,
    ).toBeLessThanOrEqual(1);
    expect(mine.filter((e) => e.outcome === "fail").length).toBeLessThanOrEqual(1);
  }
}

// CREDBROKER_PROPERTY_RUNS raises the run count for a soak; the default keeps `npm test` short.
const RUNS = Number(process.env.CREDBROKER_PROPERTY_RUNS ?? 40);

describe("the grant state machine", () => {
  it("keeps the contract's statuses and never leaves a final one, under any interleaving", {
    timeout: 6_000 * RUNS,
  }, async () => {
    expect(FINAL_STATUSES).toEqual(["expired", "revoked", "failed"]);
    await fc.assert(fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), runSteps), {
      numRuns: RUNS,
    });
  });
});
