import { describe, expect, it } from "vitest";
import { fixedClock } from "../../lib/core/clock.ts";
import type { Grant } from "../../lib/core/grant.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { trackSweepLag } from "../../lib/runtime/sweep-lag.ts";

const NOW = Date.parse("2026-11-30T10:00:00Z");
const grant = (status: Grant["status"], expiresAt: string) =>
  ({ grantId: `g-${status}-${expiresAt}`, status, expiresAt }) as Grant;

// Only listDue and dueShards matter to the tracker; the rest of the store is passed through untouched.
function stubStore(items: Grant[]): GrantStore {
  return {
    dueShards: 2,
    async listDue(shard: number) {
      return { items: shard === 0 ? items : [] };
    },
    async getGrant(id: string) {
      return items.find((g) => g.grantId === id);
    },
  } as unknown as GrantStore;
}

describe("trackSweepLag", () => {
  it("reports how long the oldest overdue active grant has waited, in whole seconds", async () => {
    const store = stubStore([
      grant("active", "2026-11-30T09:58:30Z"), // 90 s overdue
      grant("active", "2026-11-30T09:59:50Z"), // 10 s overdue
      grant("revoked", "2026-11-30T08:00:00Z"), // finished: not lag
      grant("active", "2026-11-30T10:05:00Z"), // not yet expired (listed ahead of now)
    ]);
    const lag = trackSweepLag(store, fixedClock(NOW));
    await lag.store.listDue(0, Number.MAX_SAFE_INTEGER);
    await lag.store.listDue(1, NOW);
    expect(lag.lagSeconds()).toBe(90);
  });

  it("is zero when nothing is overdue, and starts over on reset", async () => {
    const lag = trackSweepLag(stubStore([grant("active", "2026-11-30T09:00:00Z")]), fixedClock(NOW));
    expect(lag.lagSeconds()).toBe(0);
    await lag.store.listDue(0, NOW);
    expect(lag.lagSeconds()).toBe(3600);
    lag.reset();
    expect(lag.lagSeconds()).toBe(0);
  });

  it("passes every other store member through to the real store", async () => {
    const items = [grant("active", "2026-11-30T09:00:00Z")];
    const lag = trackSweepLag(stubStore(items), fixedClock(NOW));
    expect(lag.store.dueShards).toBe(2);
    expect(await lag.store.getGrant(items[0]!.grantId)).toBe(items[0]);
  });
});
