// Scheduled sweeps pass no cursor (EventBridge has nowhere to keep one): each run must start where the last
// stopped, from the sweep state, so a backlog on one shard cannot keep the others from being read.
import { afterAll, describe, expect, it } from "vitest";
import { shardOf } from "../../lib/aws/dynamodb-store.ts";
import type { Grant } from "../../lib/core/grant.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { type SweepSummary, sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

/**
 * Every due-index page read is recorded and takes a second of the budget per full page (an empty one takes
 * none, as a query that finds nothing is quick): deterministic, no wall clock.
 */
function slowReads(store: GrantStore, advance: (ms: number) => void, shardsRead: number[]): GrantStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "listDue")
        return async (...args: Parameters<GrantStore["listDue"]>) => {
          shardsRead.push(args[0]);
          const page = await target.listDue(...args);
          advance((1_000 * page.items.length) / (args[2]?.limit ?? 100));
          return page;
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `count` grants built by `make` whose ids land on `shard`. */
function onShard(shard: number, shards: number, count: number, make: () => Grant): Grant[] {
  const out: Grant[] = [];
  while (out.length < count) {
    const g = make();
    if (shardOf(g.grantId, shards) === shard) out.push(g);
  }
  return out;
}

describe("a sweep run without a cursor", () => {
  it("starts where the last run stopped, and the state forgets the place once a run reaches the end", {
    timeout: 120_000,
  }, async () => {
    const { store, seed } = await seedableStore({ dueShards: 4 });
    const broker = await createTestBroker({ store });
    const grants = Array.from({ length: 240 }, () =>
      activeGrant({
        issuedAt: new Date(NOW - 600_000).toISOString(),
        configVersion: broker.resolved.version,
      }),
    );
    await seed(grants.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })));
    const shardsRead: number[] = [];
    const deps = { ...broker.deps, store: slowReads(store, (ms) => broker.clock.advance(ms), shardsRead) };

    const first = await sweepDue(deps, { budgetMs: 2_500, pageSize: 20 });
    expect(first.complete).toBe(false);
    expect((await store.getSweepState())?.dueCursor).toBe(first.cursor);
    const stoppedOn = JSON.parse(Buffer.from(first.cursor!, "base64url").toString()).shard;

    shardsRead.length = 0;
    const runs: SweepSummary[] = [first];
    do runs.push(await sweepDue(deps, { budgetMs: 2_500, pageSize: 20 }));
    while (!runs.at(-1)!.complete && runs.length < 60);
    // The second run picked up on the shard the first ran out on, not at shard 0.
    expect(shardsRead[0]).toBe(stoppedOn);
    expect(runs.at(-1)!.complete).toBe(true);
    expect(runs.reduce((n, s) => n + s.expired, 0)).toBe(240);
    const expires = (
      await store.listAudit({ sinceMs: NOW - 3_600_000, untilMs: NOW + 86_400_000 })
    ).items.filter((e) => e.outcome === "expire");
    expect(expires).toHaveLength(240);
    expect((await store.getSweepState())?.dueCursor).toBeUndefined();
  });

  it("reaches the other shards while one shard holds more failing retries than a run can read", {
    timeout: 120_000,
  }, async () => {
    const { store, seed } = await seedableStore({ dueShards: 2 });
    const broker = await createTestBroker({ store });
    const version = broker.resolved.version;
    // 200 revocations that IAM keeps refusing, all on shard 0: each stays due and fails again every run.
    const stuck = onShard(0, 2, 200, () =>
      activeGrant({
        provider: "aws-sts",
        status: "revoked",
        revocationPending: true,
        lifetimeSeconds: 3_600,
        configVersion: version,
      }),
    );
    const expiring = onShard(1, 2, 10, () =>
      activeGrant({ issuedAt: new Date(NOW - 600_000).toISOString(), configVersion: version }),
    );
    await seed([
      ...stuck.map((grant) => ({ grant, dueAtMs: NOW - 5_000 })),
      ...expiring.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })),
    ]);
    const refusing: CredentialProvider = {
      prepare: () => {
        throw new Error("not used");
      },
      issue: () => Promise.reject(new Error("not used")),
      revoke: () => Promise.reject(Object.assign(new Error("denied"), { name: "AccessDenied" })),
      prune: async () => {},
    };
    const deps = {
      ...broker.deps,
      store: slowReads(store, (ms) => broker.clock.advance(ms), []),
      providers: { ...broker.deps.providers, "aws-sts": refusing },
    };

    // Four full pages of shard 0 need four seconds; each run has two and a half.
    const runs: SweepSummary[] = [];
    for (let i = 0; i < 3; i++) runs.push(await sweepDue(deps, { budgetMs: 2_500, pageSize: 50 }));
    expect(runs[0]!.expired).toBe(0);
    expect(runs.reduce((n, s) => n + s.expired, 0)).toBe(10);
    for (const g of expiring) expect((await store.getGrant(g.grantId))?.status).toBe("expired");
    // The refused revocations are still pending, on the index, for the runs after.
    expect((await store.getGrant(stuck[0]!.grantId))?.revocationPending).toBe(true);
  });

  it("comes round from the stored place through shard 0, and is complete only once every shard is read", async () => {
    const { store, seed } = await seedableStore({ dueShards: 4 });
    const broker = await createTestBroker({ store });
    const version = broker.resolved.version;
    // An earlier run stopped at shard 2; since then grants on every shard ran out, shard 0's among them.
    const due = [0, 1, 2, 3].map(
      (shard) =>
        onShard(shard, 4, 1, () =>
          activeGrant({ issuedAt: new Date(NOW - 600_000).toISOString(), configVersion: version }),
        )[0]!,
    );
    await seed(due.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })));
    const place = Buffer.from(JSON.stringify({ shard: 2 })).toString("base64url");
    await store.putSweepState({ configVersion: version, dueCursor: place }, undefined);
    const shardsRead: number[] = [];
    const deps = { ...broker.deps, store: slowReads(store, () => {}, shardsRead) };

    const summary = await sweepDue(deps);
    expect(shardsRead).toEqual([2, 3, 0, 1]);
    expect(summary).toMatchObject({ complete: true, errors: 0, expired: 4 });
    for (const g of due) expect((await store.getGrant(g.grantId))?.status).toBe("expired");
    expect((await store.getSweepState())?.dueCursor).toBeUndefined();
  });

  it("starts at shard 0 when the stored place names a shard the table no longer has", async () => {
    const { store, seed } = await seedableStore({ dueShards: 2 });
    const broker = await createTestBroker({ store });
    const grant = activeGrant({
      issuedAt: new Date(NOW - 600_000).toISOString(),
      configVersion: broker.resolved.version,
    });
    await seed([{ grant, dueAtMs: Date.parse(grant.expiresAt) }]);
    const elsewhere = Buffer.from(JSON.stringify({ shard: 7, key: "x" })).toString("base64url");
    await store.putSweepState({ configVersion: broker.resolved.version, dueCursor: elsewhere }, undefined);

    const summary = await sweepDue(broker.deps);
    expect(summary).toMatchObject({ complete: true, errors: 0, expired: 1 });
    expect((await store.getSweepState())?.dueCursor).toBeUndefined();
  });
});
