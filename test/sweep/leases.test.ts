// Sweep leases (CONTRACT §16) on one dynalite table shared by two sweepers, each with its own store client
// and its own injected clock: each shard is swept by its lease's holder only; when the holder is lost, its
// leases lapse `leaseSeconds` after its last renewal and the other takes over; no grant moves twice.
import { afterAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { DynamoLeaseStore } from "../../lib/aws/lease-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import type { GrantStatus } from "../../lib/core/grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { ShardLeases } from "../../lib/core/sweep-lease.ts";
import { grant } from "../governance/seed.ts";
import {
  closeSharedDynamo,
  createTestBroker,
  NOW,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";

const LEASE_SECONDS = 120;
let tables = 0;

interface Sweeper {
  broker: TestBroker;
  leases: ShardLeases;
  sweep(): ReturnType<typeof sweepDue>;
}

/** Two sweepers on one table; `moves` records every transition either made, as grantId:from->to. */
async function twoSweepers() {
  const d = await sharedDynamo();
  const tableName = `lease${process.pid}x${++tables}`;
  await ensureTable(d.client, tableName);
  const moves: string[] = [];
  // One issuer, so both brokers load the same config (the same config version), as two regions would.
  const issuer = await createTestIssuer();
  const sweeper = async (holder: string): Promise<Sweeper> => {
    const store = new DynamoGrantStore({ client: d.client, tableName });
    const transition = store.transition.bind(store) as (...a: unknown[]) => Promise<unknown>;
    store.transition = (async (...args: [string, GrantStatus, GrantStatus]) => {
      const out = await transition(...args);
      moves.push(`${args[0]}:${args[1]}->${args[2]}`);
      return out;
    }) as DynamoGrantStore["transition"];
    const broker = await createTestBroker({ store, issuer });
    const leases = new ShardLeases(
      new DynamoLeaseStore(d.client, tableName),
      holder,
      broker.clock,
      LEASE_SECONDS,
    );
    return { broker, leases, sweep: () => sweepDue(broker.deps, { leases }) };
  };
  const a = await sweeper("region-a");
  const b = await sweeper("region-b");
  const seed = async (n: number, prefix: string, expiresInMs: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const g = {
        ...grant("web-ci", "read-reports", NOW),
        grantId: `${prefix}-${i}`,
        subject: "repo:acme/web:ref:refs/heads/main",
      };
      g.configVersion = a.broker.deps.configVersion;
      g.expiresAt = new Date(NOW + expiresInMs).toISOString().replace(".000Z", "Z");
      await a.broker.store.createGrant(g, NOW + expiresInMs);
      await a.broker.store.transition(g.grantId, "issuing", "active");
      ids.push(g.grantId);
    }
    moves.length = 0;
    return ids;
  };
  const leaseStore = new DynamoLeaseStore(d.client, tableName);
  return { a, b, moves, seed, leaseStore, shards: a.broker.store.dueShards };
}

const at = (s: Sweeper, seconds: number) => s.broker.clock.set(NOW + seconds * 1000);
const expiredOnce = (moves: string[], ids: string[]) =>
  ids.every((id) => moves.filter((m) => m === `${id}:active->expired`).length === 1);

afterAll(() => closeSharedDynamo());

describe("sweep leases", () => {
  it("leave a live holder's shards alone, and hand them over once its leases lapse", async () => {
    const w = await twoSweepers();
    const first = await w.seed(24, "first", 300_000);
    const second = await w.seed(24, "second", 400_000);

    // A sweeps at +310 s: it takes every shard and expires what is due.
    at(w.a, 310);
    const a1 = await w.a.sweep();
    expect(a1).toMatchObject({ expired: 24, complete: true });
    expect(a1.leasedElsewhere).toBeUndefined();
    expect([...(await w.leaseStore.list()).values()].every((l) => l.holder === "region-a")).toBe(true);

    // B finds every shard leased to A, which is alive.
    at(w.b, 320);
    expect(await w.b.sweep()).toMatchObject({ expired: 0, leasedElsewhere: w.shards });

    // A is lost after its sweep at +310 s. At +429 s its leases are still live: B does nothing yet, and the
    // second batch (due at +400 s) waits.
    at(w.b, 429);
    expect(await w.b.sweep()).toMatchObject({ expired: 0, leasedElsewhere: w.shards });

    // At +430 s — leaseSeconds after A's last renewal — they lapse, and B takes every shard over.
    at(w.b, 310 + LEASE_SECONDS);
    const b3 = await w.b.sweep();
    expect(b3).toMatchObject({ expired: 24, complete: true });
    expect(b3.leasedElsewhere).toBeUndefined();
    const leases = await w.leaseStore.list();
    expect(leases.size).toBe(w.shards);
    expect([...leases.values()].every((l) => l.holder === "region-b")).toBe(true);

    // Every grant expired exactly once, the first batch by A and the second by B; nothing else moved.
    expect(expiredOnce(w.moves, [...first, ...second])).toBe(true);
    expect(w.moves).toHaveLength(48);
    for (const id of first) expect((await w.a.broker.store.getGrant(id))?.status).toBe("expired");
    for (const id of second) expect((await w.b.broker.store.getGrant(id))?.status).toBe("expired");
  });

  it("give each shard to one of two sweepers running at once", async () => {
    const w = await twoSweepers();
    const ids = await w.seed(80, "g", 300_000);
    at(w.a, 301);
    at(w.b, 301);
    const [a, b] = await Promise.all([w.a.sweep(), w.b.sweep()]);
    expect(a.expired + b.expired).toBe(80);
    // Each shard was held by one, and the other found it leased.
    expect((a.leasedElsewhere ?? 0) + (b.leasedElsewhere ?? 0)).toBe(w.shards);
    expect(a.skipped + b.skipped).toBe(0);
    expect(expiredOnce(w.moves, ids)).toBe(true);
    expect(w.moves).toHaveLength(80);
  });

  it("are renewed by their holder, and given up only by it", async () => {
    const w = await twoSweepers();
    at(w.a, 0);
    expect(await w.a.leases.hold(3)).toBe(true);
    at(w.a, 100);
    expect(await w.a.leases.hold(3)).toBe(true); // renewed: now lapses at +220 s
    at(w.b, 200);
    expect(await w.b.leases.hold(3)).toBe(false);
    await w.b.leases.release(3); // not B's to give up
    expect((await w.leaseStore.list()).get(3)).toEqual({ holder: "region-a", expiresAtMs: NOW + 220_000 });
    await w.a.leases.release(3);
    expect(await w.b.leases.hold(3)).toBe(true);
    expect(() => new ShardLeases(w.leaseStore, "x", w.a.broker.clock, 5)).toThrow(TypeError);
  });
});
