// A revocation that can never be written (the role is out of the broker's reach) is retried, each failure
// counted as a sweep error, until the credential has surely expired; then the sweep stops retrying it and
// says so in the audit trail, instead of costing every sweep forever or going quiet.
import { afterAll, describe, expect, it } from "vitest";
import { isoSeconds } from "../../lib/core/clock.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { GAVE_UP_REASON, sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

describe("a revocation that cannot be written", () => {
  it("is retried as an error while the credential may live, then given up with an audit event", async () => {
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

    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 1, revoked: 0, errors: 1 });
    expect(attempts).toBe(1);
    expect((await store.getGrant(grant.grantId))?.revocationPending).toBe(true);

    // Past the recorded expiry but within the margin a session may outlive it by: still retried.
    broker.clock.advance(901_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 1, errors: 1 });
    expect(attempts).toBe(2);

    broker.clock.advance(5 * 60_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 0, errors: 1 });
    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 0, errors: 0, scanned: 0 });
    expect(attempts).toBe(2);
    expect((await store.getGrant(grant.grantId))?.revocationPending).toBeFalsy();
    const events = (await store.listAudit({ sinceMs: NOW, untilMs: NOW + 3_600_000 })).items;
    expect(events.filter((e) => e.grantId === grant.grantId)).toEqual([
      expect.objectContaining({ kind: "sweep", outcome: "error", reasons: [GAVE_UP_REASON] }),
    ]);
    expect(broker.logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ level: "error", grantId: grant.grantId }),
    );
    expect(
      (await store.listDue(0, broker.clock.now())).items.concat(
        ...(await Promise.all(
          [1, 2, 3, 4, 5, 6, 7].map(async (s) => (await store.listDue(s, broker.clock.now())).items),
        )),
      ),
    ).toEqual([]);
  });
});
