// Ends the grants of a CI task that its CI system says is over (CONTRACT §13): a delivery is claimed once
// (deduplicated for 7 days), the task is recorded as ended (so a token naming it is refused from now on),
// then every live grant of the task, found by key, is revoked the way any revocation is. Answered once
// every revocation is durable; the providers' work may still be pending, as for any revocation.

import type { BrokerConfig } from "../../config/schema.ts";
import { grantEvent } from "../audit.ts";
import { recordAudit } from "../audit-recorder.ts";
import { isoSeconds } from "../clock.ts";
import { DependencyUnavailable } from "../errors.ts";
import type { Grant } from "../grant.ts";
import { newId } from "../ids.ts";
import { PROVIDER_TRAITS } from "../providers/traits.ts";
import { type RevokeDeps, revokeGrant } from "../revoke-grant.ts";
import { TransitionConflict } from "../store.ts";
import { endedForMs, type TaskSource } from "./task-keys.ts";
import type { TaskRef } from "./webhooks.ts";

/** How long a delivery id is remembered (CONTRACT §13). */
export const DELIVERY_KEEP_MS = 7 * 86_400_000;
export const TASK_ENDED_REASON = "task-ended";
/** Revocations of one delivery in flight at once: enough for a large matrix, gentle on the table. */
const CONCURRENCY = 16;

export type EventDeps = RevokeDeps & { config: Pick<BrokerConfig, "events" | "issuers"> };

export interface TaskEnd {
  source: TaskSource;
  deliveryId: string;
  event: string;
  tasks: TaskRef[];
}

export type TaskEndResult = { ended: number; grants: string[] } | { duplicate: true };

export async function endTask(deps: EventDeps, end: TaskEnd): Promise<TaskEndResult> {
  const events = deps.store.events;
  if (!events) throw new DependencyUnavailable("event store", "the grant store keeps no events");
  const now = deps.clock.now();
  const key = `${end.source}#${end.deliveryId}`;
  let claimed: boolean;
  try {
    claimed = await events.claimDelivery(key, now, DELIVERY_KEEP_MS);
  } catch (err) {
    throw new DependencyUnavailable("grant store", (err as Error).name);
  }
  if (!claimed) return { duplicate: true };
  try {
    // First the task is ended for new requests, so no grant can start while the existing ones end.
    const until = now + endedForMs(deps.config.events, deps.config.issuers, end.source);
    await Promise.all(end.tasks.map((t) => events.markTaskEnded(t.run, t.job, now, until)));
    const grants: Grant[] = [];
    for (const task of end.tasks) {
      let cursor: string | undefined;
      do {
        const page = await events.listLiveGrantsByTask(task.run, task.job, cursor);
        grants.push(...page.items);
        cursor = page.cursor;
      } while (cursor);
    }
    const ended = (await pool(grants, CONCURRENCY, (g) => endOne(deps, g, end))).filter(
      (id): id is string => id !== undefined,
    );
    await recordAudit(deps.store, deps.log, {
      eventId: newId(now),
      time: new Date(now).toISOString(),
      kind: "event",
      outcome: "change",
      actor: end.source,
      deliveryId: end.deliveryId,
      event: end.event,
      reasons: [`${TASK_ENDED_REASON}: ${ended.length} grant${ended.length === 1 ? "" : "s"} ended`],
    });
    await events.completeDelivery(key, deps.clock.now(), DELIVERY_KEEP_MS);
    return { ended: ended.length, grants: ended };
  } catch (err) {
    // Not remembered, so the CI system's redelivery (or its retry) acts; what was ended stays ended.
    await events.releaseDelivery(key).catch(() => undefined);
    throw err instanceof DependencyUnavailable
      ? err
      : new DependencyUnavailable("grant store", (err as Error).name);
  }
}

/** Ends one grant; its id when this delivery ended it, undefined when it was already over. */
async function endOne(deps: EventDeps, grant: Grant, end: TaskEnd): Promise<string | undefined> {
  const options = {
    reason: TASK_ENDED_REASON,
    kind: "event" as const,
    actor: end.source,
    audit: { deliveryId: end.deliveryId, event: end.event },
  };
  if (grant.status === "active") return (await revokeGrant(deps, grant, options)) ? grant.grantId : undefined;
  if (grant.status !== "issuing") return undefined;
  // Decided before the task ended and still being issued: failed now, so its activation is refused and the
  // credential withheld; a credential that may exist already is ended by the sweep, as for any failed issue.
  const now = deps.clock.now();
  const mayExist = PROVIDER_TRAITS[grant.provider].failedIssueMayLeaveCredential(503);
  try {
    await deps.store.transition(grant.grantId, "issuing", "failed", {
      reason: TASK_ENDED_REASON,
      ...(mayExist
        ? { revokedAt: isoSeconds(now), revocationPending: true, dueAtMs: now }
        : { dueAtMs: null }),
    });
  } catch (err) {
    if (!(err instanceof TransitionConflict)) throw err;
    // Activated meanwhile: revoke it like any active grant.
    const current = await deps.store.getGrant(grant.grantId);
    return current?.status === "active" && (await revokeGrant(deps, current, options))
      ? grant.grantId
      : undefined;
  }
  await recordAudit(
    deps.store,
    deps.log,
    grantEvent(grant, now, {
      kind: "event",
      outcome: "fail",
      reasons: [TASK_ENDED_REASON],
      actor: end.source,
      deliveryId: end.deliveryId,
      event: end.event,
    }),
  );
  return grant.grantId;
}

async function pool<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
  return results;
}
