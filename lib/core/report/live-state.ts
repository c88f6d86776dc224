// What is true now, which the report (a period's events) does not say: the active grants by provider and
// task, the revocations still to be applied, the approvals waiting, and the last sweep run. Read by key:
// the due index holds every live grant (each is due at its expiry at the latest), so one Query per shard
// sees them all, and its cost follows the live grants, never the history.
import { statusAt } from "../approvals/request.ts";
import type { GrantStore } from "../store.ts";
import type { SweepRun } from "./governance-store.ts";

/** Reads "everything on the due index". */
const END_OF_TIME_MS = 9_999_999_999_999;

export interface LiveState {
  activeGrants: {
    total: number;
    byProvider: { provider: string; count: number }[];
    byTask: { task: string; provider: string; count: number }[];
  };
  /** Revoked or expired grants whose revocation at the provider is still to be applied (the sweep retries). */
  revocationsPending: number;
  /** Approval requests pending now; null when the store keeps none. */
  approvalsPending: number | null;
  /** The last sweep run, with `lagSeconds` (its oldest due grant's age); null before the first recorded run. */
  lastSweep: (SweepRun & { lagSeconds: number | null }) | null;
}

export async function liveState(store: GrantStore, nowMs: number): Promise<LiveState> {
  const byTask = new Map<string, { task: string; provider: string; count: number }>();
  let pending = 0;
  const shards = Array.from({ length: store.dueShards }, (_, n) => n);
  const seen = new Set<string>();
  const [, approvals, run] = await Promise.all([
    Promise.all(
      shards.map(async (shard) => {
        let cursor: string | undefined;
        do {
          const page = await store.listDue(shard, END_OF_TIME_MS, {
            limit: 1_000,
            ...(cursor ? { cursor } : {}),
          });
          for (const g of page.items) {
            // A grant sits on the index once; `seen` guards a page boundary that a move crossed.
            if (seen.has(g.grantId)) continue;
            seen.add(g.grantId);
            if (g.revocationPending) pending++;
            if (g.status !== "active") continue;
            const key = `${g.task}\u0000${g.provider}`;
            const t = byTask.get(key) ?? { task: g.task, provider: g.provider, count: 0 };
            t.count++;
            byTask.set(key, t);
          }
          cursor = page.cursor;
        } while (cursor);
      }),
    ),
    store.approvals ? store.approvals.listPending() : undefined,
    store.governance ? store.governance.getSweepRun() : undefined,
  ]);
  const tasks = [...byTask.values()].sort(
    (a, b) => a.task.localeCompare(b.task) || a.provider.localeCompare(b.provider),
  );
  const providers = new Map<string, number>();
  for (const t of tasks) providers.set(t.provider, (providers.get(t.provider) ?? 0) + t.count);
  return {
    activeGrants: {
      total: tasks.reduce((n, t) => n + t.count, 0),
      byProvider: [...providers.entries()]
        .map(([provider, count]) => ({ provider, count }))
        .sort((a, b) => a.provider.localeCompare(b.provider)),
      byTask: tasks,
    },
    revocationsPending: pending,
    approvalsPending: approvals ? approvals.filter((r) => statusAt(r, nowMs) === "pending").length : null,
    lastSweep: run ? { ...run, lagSeconds: run.oldestDueAgeSeconds ?? null } : null,
  };
}
