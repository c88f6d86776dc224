// The console's audit view: the newest events of a recent window (read by day partition, as
// `credbroker audit` reads them), and for the live view only those after the newest one the page shows.
import type { AuditEvent } from "../../core/audit.ts";
import type { GrantStore } from "../../core/store.ts";

/** Events read for one view at most: the view shows the newest of them. */
const MAX_EVENTS = 2_000;
export const SHOWN_EVENTS = 200;
/** A slow request writes its event after its own time: the live poll looks back this far and dedupes. */
export const LIVE_OVERLAP_MS = 60_000;

export async function recentAudit(store: GrantStore, sinceMs: number, nowMs: number): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAudit({ sinceMs, untilMs: nowMs, ...(cursor ? { cursor } : {}) });
    events.push(...page.items);
    cursor = page.cursor;
  } while (cursor && events.length < MAX_EVENTS);
  return events.sort((a, b) => b.time.localeCompare(a.time) || b.eventId.localeCompare(a.eventId));
}
