// `credbroker dev --peer` (CONTRACT §16): two brokers on one table, requests spread over both, one killed
// mid-run. Every answered grant is recorded once; the survivor leaves the dead broker's shards alone while
// its leases live, takes them over once they lapse (leaseSeconds after its last sweep), and expires
// everything due; no grant moves twice. A token of one broker introspects on the other (one key, one kid).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEASE_SECONDS, type PeerRun, peerRun } from "./peer-harness.ts";

let run: PeerRun;

beforeAll(async () => {
  run = await peerRun({ total: 200, concurrency: 10, killAfter: 80 });
}, 120_000);
afterAll(() => run?.close());

function expectEveryGrantOnce(run: PeerRun) {
  const ids = run.answered.map((g) => g.grantId);
  expect(new Set(ids).size).toBe(ids.length);
  // Each move at most once per grant; the answered ones issued exactly once.
  expect(new Set(run.moves).size).toBe(run.moves.length);
  for (const id of ids) expect(run.moves.filter((m) => m === `${id}:issuing->active`)).toHaveLength(1);
}

describe("two dev brokers on one table", () => {
  it("answers on both, and records every answered grant once", async () => {
    expect(run.refused).toBe(0);
    expect(run.answered.some((g) => g.via === "a")).toBe(true);
    expect(run.answered.filter((g) => g.via === "b").length).toBeGreaterThan(run.answered.length / 3);
    expect(run.answered.length + run.unanswered).toBe(200);
    for (const g of run.answered) expect((await run.b.deps.store.getGrant(g.grantId))?.status).toBe("active");
    expectEveryGrantOnce(run);
  });

  it("introspects the killed broker's tokens on the survivor", async () => {
    const fromA = run.answered.find((g) => g.via === "a")!;
    const res = await fetch(`${run.b.url}/introspect`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: fromA.token }).toString(),
    });
    expect(await res.json()).toMatchObject({ active: true, jti: fromA.grantId });
  });

  it("takes the dead broker's shards over once its leases lapse, and expires everything due", async () => {
    // The grants (60 s) are due, but the dead broker's leases are live: the survivor sweeps nothing yet.
    run.advance(61_000);
    const early = await run.b.sweep();
    expect(early.leasedElsewhere).toBe(run.b.deps.store.dueShards);
    expect(early.expired).toBe(0);
    // leaseSeconds after the dead broker's last sweep, the survivor holds every shard.
    run.advance(LEASE_SECONDS * 1000 - 61_000);
    let expired = 0;
    for (let i = 0; i < 20; i++) {
      const s = await run.b.sweep();
      expect(s.leasedElsewhere).toBeUndefined();
      expired += s.expired;
      if (s.complete && s.expired === 0) break;
    }
    // Every grant that became active expires, the answered ones and those whose answer the kill cut off.
    const activated = run.moves.filter((m) => m.endsWith(":issuing->active")).map((m) => m.split(":")[0]!);
    expect(activated.length).toBeGreaterThanOrEqual(run.answered.length);
    expect(expired).toBe(activated.length);
    for (const id of activated)
      expect(run.moves.filter((m) => m === `${id}:active->expired`)).toHaveLength(1);
    for (const g of run.answered)
      expect((await run.b.deps.store.getGrant(g.grantId))?.status).toBe("expired");
    for (const g of run.answered)
      expect(run.moves.filter((m) => m === `${g.grantId}:active->expired`)).toHaveLength(1);
    expectEveryGrantOnce(run);
  });
});
