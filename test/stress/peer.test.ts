// `credbroker dev --peer` under load (CONTRACT §16): 2,000 token requests spread over two brokers on one
// table, the first killed a third of the way through. Every answered grant is recorded once; the survivor
// takes the dead broker's shards over once its leases lapse and expires everything that became active;
// no grant moves twice (every transition either broker made is counted).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LEASE_SECONDS, type PeerRun, peerRun } from "../dev/peer-harness.ts";

const TOTAL = 2000;
let run: PeerRun;

beforeAll(async () => {
  run = await peerRun({ total: TOTAL, concurrency: 40, killAfter: 700 });
}, 600_000);
afterAll(() => run?.close());

describe("two dev brokers on one table, one killed under load", () => {
  it("records every answered grant once, and the survivor expires everything after the takeover", async () => {
    expect(run.refused).toBe(0);
    expect(run.answered.length + run.unanswered).toBe(TOTAL);
    const ids = run.answered.map((g) => g.grantId);
    expect(new Set(ids).size).toBe(ids.length);
    const activated = run.moves.filter((m) => m.endsWith(":issuing->active")).map((m) => m.split(":")[0]!);
    expect(new Set(activated).size).toBe(activated.length);
    for (const id of ids) expect(activated).toContain(id);

    run.advance(61_000);
    const early = await run.b.sweep();
    expect(early).toMatchObject({ expired: 0, leasedElsewhere: run.b.deps.store.dueShards });
    run.advance(LEASE_SECONDS * 1000 - 61_000);
    let expired = 0;
    for (let i = 0; i < 50; i++) {
      const s = await run.b.sweep();
      expect(s.leasedElsewhere).toBeUndefined();
      expired += s.expired;
      if (s.complete && s.expired === 0) break;
    }
    expect(expired).toBe(activated.length);
    expect(new Set(run.moves).size).toBe(run.moves.length);
    for (const id of activated)
      expect(run.moves.filter((m) => m === `${id}:active->expired`)).toHaveLength(1);
    for (const g of run.answered)
      expect((await run.b.deps.store.getGrant(g.grantId))?.status).toBe("expired");
  });
});
