// Measures how far the sweep is behind: the age of the oldest grant that is still `active` although its
// expiry has passed, among the due items a sweep run reads. It wraps the store's listDue rather than the
// sweep itself, so the core stays free of metrics and the measurement follows whatever the sweep reads.
import { type Clock, systemClock } from "../core/clock.ts";
import type { GrantStore } from "../core/store.ts";

export interface SweepLagTracker {
  store: GrantStore;
  /** Starts a new measurement (one per sweep run). */
  reset(): void;
  /** Seconds between the oldest overdue active grant's expiry and the time the sweep looked; 0 if none. */
  lagSeconds(): number;
}

export function trackSweepLag(store: GrantStore, clock: Clock = systemClock): SweepLagTracker {
  let lagMs = 0;
  const listDue: GrantStore["listDue"] = async (shard, untilMs, options) => {
    const page = await store.listDue(shard, untilMs, options);
    // Measured against the clock, not untilMs: a caller may list ahead of now.
    const now = clock.now();
    for (const grant of page.items) {
      const expiresAtMs = Date.parse(grant.expiresAt);
      if (grant.status === "active" && expiresAtMs <= now) lagMs = Math.max(lagMs, now - expiresAtMs);
    }
    return page;
  };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === "listDue") return listDue;
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return {
    store: wrapped,
    reset: () => {
      lagMs = 0;
    },
    lagSeconds: () => Math.floor(lagMs / 1000),
  };
}
