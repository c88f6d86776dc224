// The active grants the sweep would revoke once a proposed config is deployed (CONTRACT §14): the grants
// its config step would re-decide — every live grant decided under another version, or only the changed
// workloads' when nothing but the inventory changed since the version it last applied — each judged by the
// sweep's own judgeGrant at now with the workload's current signals. Read only: nothing is revoked.
import type { Grant } from "../grant.ts";
import { judgeGrant, type ReevaluateDeps } from "../reevaluate.ts";
import type { GrantStore } from "../store.ts";
import { configDigests, END_OF_TIME_MS } from "../sweep.ts";

export interface RevokedOnDeploy {
  grantId: string;
  workload: string;
  task: string;
  why: string;
}

export type ProposedDeps = Pick<
  ReevaluateDeps,
  "config" | "configVersion" | "tasks" | "policies" | "workloads" | "authorizer"
>;

/** Every active grant the sweep's config step would look at, read page by page. */
async function* grantsTheSweepRedecides(store: GrantStore, proposed: ProposedDeps): AsyncGenerator<Grant> {
  const state = await store.getSweepState();
  if (state?.configVersion === proposed.configVersion && !state.pass) return;
  const digests = configDigests(proposed);
  if (state?.globalDigest === digests.global && state.workloadDigests && !state.pass) {
    // Only the inventory changed: the sweep re-decides the workloads whose entry changed, moved or went.
    const old = state.workloadDigests;
    const changed = new Set<string>();
    for (const [name, digest] of Object.entries(digests.workloads))
      if (old[name] !== digest) changed.add(name);
    for (const name of Object.keys(old)) if (!(name in digests.workloads)) changed.add(name);
    for (const workload of [...changed].sort()) {
      let cursor: string | undefined;
      do {
        const page = await store.listLiveGrantsByWorkload(workload, {
          ...(cursor ? { cursor } : {}),
          limit: 100,
        });
        for (const grant of page.items) if (grant.status === "active") yield grant;
        cursor = page.cursor;
      } while (cursor);
    }
    return;
  }
  for (let shard = 0; shard < store.dueShards; shard++) {
    let cursor: string | undefined;
    do {
      const page = await store.listDue(shard, END_OF_TIME_MS, { ...(cursor ? { cursor } : {}), limit: 100 });
      for (const grant of page.items)
        if (grant.status === "active" && grant.configVersion !== proposed.configVersion) yield grant;
      cursor = page.cursor;
    } while (cursor);
  }
}

export async function revokedOnDeploy(
  store: GrantStore,
  proposed: ProposedDeps,
  nowMs: number,
): Promise<RevokedOnDeploy[]> {
  const signals = new Map<string, Promise<Record<string, string>>>();
  const revoked: RevokedOnDeploy[] = [];
  for await (const grant of grantsTheSweepRedecides(store, proposed)) {
    let read = signals.get(grant.workload);
    if (!read) {
      read = store.getSignals(grant.workload);
      signals.set(grant.workload, read);
    }
    const verdict = judgeGrant(proposed, grant, await read, nowMs);
    if (!verdict.allowed)
      revoked.push({
        grantId: grant.grantId,
        workload: grant.workload,
        task: grant.task,
        why: verdict.reason,
      });
  }
  return revoked.sort((a, b) => a.grantId.localeCompare(b.grantId));
}
