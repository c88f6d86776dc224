// The console's audit view: the newest events of a recent window (read by day partition, as
// `credbroker audit` reads them), and for the live view only those after the newest one the page shows.
import type { AuditEvent } from "../../core/audit.ts";
import type { GrantStore } from "../../core/store.ts";

/** Events read for one view at most: the view shows the newest of them. */
const MAX_EVENTS = 2_000;
export const SHOWN_EVENTS = 200;
/** A slow request writes its event after its own time: the live poll looks back this far and dedupes. */
export const LIVE_OVERLAP_MS = 60_000;

/**
 * The newest events of [sinceMs, nowMs], newest first. Read back from now in windows that double (an hour,
 * two, four, …), so a quiet month costs a handful of queries; a window holding more than the view keeps is
 * halved and its newer half read first, so a busy hour yields its newest events, not its oldest.
 */
export async function recentAudit(
  store: GrantStore,
  sinceMs: number,
  nowMs: number,
  max = MAX_EVENTS,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let untilMs = nowMs;
  for (let spanMs = 3_600_000; untilMs >= sinceMs && events.length < max; spanMs *= 2) {
    const fromMs = Math.max(sinceMs, untilMs - spanMs + 1);
    events.push(...(await newestOf(store, fromMs, untilMs, max - events.length)));
    untilMs = fromMs - 1;
  }
  return events.sort((a, b) => b.time.localeCompare(a.time) || b.eventId.localeCompare(a.eventId));
}

/** Up to `want` of the newest events of [fromMs, untilMs] (all of them when there are no more). */
async function newestOf(
  store: GrantStore,
  fromMs: number,
  untilMs: number,
  want: number,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAudit({
      sinceMs: fromMs,
      untilMs,
      limit: want + 1 - events.length,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.items);
    cursor = page.cursor;
  } while (cursor && events.length <= want);
  if (!cursor || untilMs - fromMs < 1000) return events;
  // More than wanted: these are the window's oldest. Read its newer half first.
  const midMs = fromMs + Math.floor((untilMs - fromMs) / 2);
  const newer = await newestOf(store, midMs + 1, untilMs, want);
  if (newer.length >= want) return newer;
  return [...newer, ...(await newestOf(store, fromMs, midMs, want - newer.length))];
}
