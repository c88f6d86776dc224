// The sweep when a step fails or a grant is mid-issue: expiry still happens, and nothing decided under an
// old config slips through a config pass.
import { afterAll, describe, expect, it } from "vitest";
import type { GrantStore } from "../../lib/core/store.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { baseConfig, closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

function failing<K extends keyof GrantStore>(store: GrantStore, method: K): GrantStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === method)
        return () => Promise.reject(Object.assign(new Error("boom"), { name: "InternalServerError" }));
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe("a failing sweep step", () => {
  it.each(["getSweepState", "listReevaluations"] as const)(
    "still expires due grants when %s fails, and reports the run incomplete with an error",
    async (method) => {
      const { store, seed } = await seedableStore();
      const broker = await createTestBroker({ store });
      const grant = activeGrant({
        issuedAt: new Date(NOW - 600_000).toISOString(),
        configVersion: broker.resolved.version,
      });
      await seed([{ grant, dueAtMs: Date.parse(grant.expiresAt) }]);
      const summary = await sweepDue({ ...broker.deps, store: failing(store, method) });
      expect(summary).toMatchObject({ expired: 1, errors: 1, complete: false });
      expect((await store.getGrant(grant.grantId))!.status).toBe("expired");
    },
  );
});

describe("a config pass", () => {
  it("re-decides a grant that was still issuing under the old config once it is active", async () => {
    const { store, seed } = await seedableStore();
    const issuing = activeGrant({ status: "issuing", configVersion: "previous" });
    await seed([{ grant: issuing, dueAtMs: NOW + 60_000 }]);
    // The new config disables web-ci while its grant is between the record and the credential.
    const next = await createTestBroker({
      store,
      config: (issuer) => {
        const c = baseConfig(issuer);
        (c["workloads"] as Record<string, unknown>[])[0]!["disabled"] = true;
        return c;
      },
    });
    expect(await sweepDue(next.deps)).toMatchObject({ revoked: 0, complete: true });
    expect((await store.listReevaluations()).map((m) => m.workload)).toEqual(["web-ci"]);

    // The token path finishes the issuance; the next sweep re-decides the workload and revokes it.
    await store.transition(issuing.grantId, "issuing", "active", { dueAtMs: Date.parse(issuing.expiresAt) });
    next.clock.advance(5_000);
    expect(await sweepDue(next.deps)).toMatchObject({ revoked: 1 });
    expect(await store.getGrant(issuing.grantId)).toMatchObject({
      status: "revoked",
      reason: "workload disabled",
    });
  });
});
