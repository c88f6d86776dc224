// A revocation that can never be written (the role is out of the broker's reach) stops being retried once
// the credential has expired by itself, instead of costing every sweep forever.
import { afterAll, describe, expect, it } from "vitest";
import { isoSeconds } from "../../lib/core/clock.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

describe("a revocation that cannot be written", () => {
  it("is retried while the credential lives, and dropped from the due index once it has expired", async () => {
    let attempts = 0;
    const unreachable: CredentialProvider = {
      prepare: () => {
        throw new Error("not used");
      },
      issue: async () => {
        throw new Error("not used");
      },
      revoke: async () => {
        attempts++;
        throw Object.assign(new Error("AccessDenied"), { name: "AccessDenied" });
      },
    };
    const { store, seed } = await seedableStore();
    const grant = {
      ...activeGrant({ provider: "aws-sts", task: "deploy-web", lifetimeSeconds: 900 }),
      status: "revoked" as const,
      revokedAt: isoSeconds(NOW),
      reason: "incident",
      revocationPending: true,
    };
    await seed([{ grant, dueAtMs: NOW }]);
    const broker = await createTestBroker({ store, adapters: { providers: { "aws-sts": unreachable } } });

    await sweepDue(broker.deps);
    expect(attempts).toBe(1);
    expect((await store.getGrant(grant.grantId))?.revocationPending).toBe(true);

    broker.clock.advance(901_000);
    await sweepDue(broker.deps);
    await sweepDue(broker.deps);
    expect(attempts).toBe(1);
    expect((await store.getGrant(grant.grantId))?.revocationPending).toBeFalsy();
    expect(
      (await store.listDue(0, broker.clock.now())).items.concat(
        ...(await Promise.all(
          [1, 2, 3, 4, 5, 6, 7].map(async (s) => (await store.listDue(s, broker.clock.now())).items),
        )),
      ),
    ).toEqual([]);
  });
});
