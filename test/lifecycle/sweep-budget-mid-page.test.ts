// The time budget holds within a page too: a page of slow revocations (IAM calls) stops when the budget is
// spent, and the next run reads that page again and finishes it, each grant handled once.
import { afterAll, describe, expect, it } from "vitest";
import { isoSeconds } from "../../lib/core/clock.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { type SweepSummary, sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

describe("the time budget within a page", () => {
  it("stops after the grant that spent it, and the next runs re-read the page and finish it", async () => {
    const { store, seed } = await seedableStore({ dueShards: 1 });
    const broker = await createTestBroker({ store });
    const revoked: string[] = [];
    // Each revocation takes a second of the budget: deterministic, no wall clock.
    const slowIam: CredentialProvider = {
      prepare: () => {
        throw new Error("not used");
      },
      issue: () => Promise.reject(new Error("not used")),
      async revoke(grant) {
        broker.clock.advance(1_000);
        revoked.push(grant.grantId);
        return "grant-listed";
      },
      prune: async () => {},
    };
    const grants = Array.from({ length: 10 }, () => ({
      ...activeGrant({ provider: "aws-sts", task: "deploy-web", lifetimeSeconds: 900 }),
      status: "revoked" as const,
      revokedAt: isoSeconds(NOW),
      reason: "incident",
      revocationPending: true,
      configVersion: broker.resolved.version,
    }));
    await seed(grants.map((grant) => ({ grant, dueAtMs: NOW })));
    await store.putSweepState({ configVersion: broker.resolved.version }, undefined);
    const deps = { ...broker.deps, providers: { ...broker.deps.providers, "aws-sts": slowIam } };

    const first = await sweepDue(deps, { budgetMs: 2_500 });
    // One page holds all ten; the run stopped after the third, not after the tenth.
    expect(first).toMatchObject({ retried: 3, revoked: 3, complete: false });
    expect(first.cursor).toBeDefined();
    expect((await store.getSweepState())?.dueCursor).toBe(first.cursor);

    const runs: SweepSummary[] = [first];
    while (!runs.at(-1)!.complete && runs.length < 20) runs.push(await sweepDue(deps, { budgetMs: 2_500 }));
    expect(runs.at(-1)).toMatchObject({ complete: true, errors: 0 });
    expect(runs.map((r) => r.retried)).toEqual([3, 3, 3, 1]);
    expect([...revoked].sort()).toEqual(grants.map((g) => g.grantId).sort());
    for (const g of grants) expect((await store.getGrant(g.grantId))?.revocationPending).toBeFalsy();
    expect((await store.getSweepState())?.dueCursor).toBeUndefined();
  });
});
