// The console's audit view reads the newest events of its window first: a busy window shows its newest
// events, and a quiet one still reaches back to its start.
import { afterAll, describe, expect, it } from "vitest";
import { recentAudit } from "../../lib/console/server/audit-feed.ts";
import { closeSharedDynamo, NOW, newStore } from "../support/broker.ts";

afterAll(closeSharedDynamo);

const MIN = 60_000;
const at = (minutesAgo: number, id: string) => ({
  eventId: id,
  time: new Date(NOW - minutesAgo * MIN).toISOString(),
  kind: "token" as const,
  outcome: "issue" as const,
  workload: "web-ci",
});

describe("the console's recent audit", () => {
  it("keeps the newest events when the window holds more than it shows, newest first", async () => {
    const store = await newStore();
    // Ten events in the last ten minutes, and older ones in the days before.
    for (let m = 1; m <= 10; m++) await store.putAudit(at(m, `recent-${String(m).padStart(2, "0")}`));
    for (const d of [2, 5, 20]) await store.putAudit(at(d * 24 * 60, `day-${d}`));
    const newest = await recentAudit(store, NOW - 30 * 24 * 60 * MIN, NOW, 4);
    expect(newest.map((e) => e.eventId)).toEqual(["recent-01", "recent-02", "recent-03", "recent-04"]);
  });

  it("reaches back to the start of a quiet window", async () => {
    const store = await newStore();
    for (const d of [2, 5, 20, 40]) await store.putAudit(at(d * 24 * 60, `day-${d}`));
    const all = await recentAudit(store, NOW - 30 * 24 * 60 * MIN, NOW);
    expect(all.map((e) => e.eventId)).toEqual(["day-2", "day-5", "day-20"]);
  });
});
