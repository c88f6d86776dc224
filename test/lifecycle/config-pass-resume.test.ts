// A config pass that resumed mid-shard and then stopped exactly at a shard boundary must finish on the next
// run: the finished shard's cursor may not be carried into the next shard.
import { afterAll, describe, expect, it } from "vitest";
import { shardOf } from "../../lib/aws/dynamodb-store.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

const END_OF_TIME = 9_999_999_999_999;

describe("config pass resume", () => {
  it("finishes the pass after a run that resumed mid-shard stops at the shard boundary", async () => {
    const { store, seed } = await seedableStore({ dueShards: 2 });
    const grants = [];
    const perShard = [0, 0];
    while (perShard[0]! < 3 || perShard[1]! < 3) {
      const g = activeGrant({ configVersion: "previous", lifetimeSeconds: 3000 });
      const s = shardOf(g.grantId, 2);
      if (perShard[s]! >= 3) continue;
      perShard[s]!++;
      grants.push(g);
    }
    await seed(grants.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })));
    const broker = await createTestBroker({ store });
    const version = broker.resolved.version;
    // A pass that an earlier run left in the middle of shard 0.
    const first = await store.listDue(0, END_OF_TIME, { limit: 1 });
    await store.putSweepState(
      {
        configVersion: "old",
        pass: { configVersion: version, shard: 0, key: first.cursor!, startedAtMs: 0 },
      },
      undefined,
    );
    // This run resumes it and runs out of time exactly when shard 0 is done.
    const stopAtBoundary = new Proxy(store, {
      get(target, prop) {
        if (prop === "listDue")
          return async (shard: number, until: number, options: Parameters<GrantStore["listDue"]>[2]) => {
            const page = await target.listDue(shard, until, options);
            if (until === END_OF_TIME && shard === 0 && !page.cursor) broker.clock.advance(10 ** 9);
            return page;
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as GrantStore;
    await sweepDue({ ...broker.deps, store: stopAtBoundary }, { pageSize: 1 });

    const next = await sweepDue(broker.deps, { pageSize: 1 });
    expect(next.errors).toBe(0);
    const state = await store.getSweepState();
    expect(state?.pass).toBeUndefined();
    expect(state?.configVersion).toBe(version);
  });
});
