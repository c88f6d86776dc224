import type { AuditEvent } from "./audit.ts";
import type { Logger } from "./logger.ts";
import type { GrantStore } from "./store.ts";

/** An audit write sent ahead of the request's end (see startAudit), awaited by recordAudit. */
export interface AuditWrite {
  /** The event as sent, serialised: recordAudit stores the final event again only if it differs. */
  readonly sent: string;
  /** Resolves (never rejects) once the write is answered: with its error if it failed. */
  readonly settled: Promise<Error | undefined>;
}

/**
 * Sends an audit event's store write now, before the request's outcome is final, so that it overlaps other
 * I/O that does not depend on it (the token path's grant activation). The event is copied; the request's
 * own event may still change, and recordAudit then stores the final one over it.
 */
export function startAudit(store: GrantStore, event: AuditEvent): AuditWrite {
  const snapshot = { ...event };
  return {
    sent: JSON.stringify(snapshot),
    settled: store.putAudit(snapshot).then(
      () => undefined,
      (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
    ),
  };
}

/**
 * Writes an audit event to the store and as a JSON log line. A failed store write is logged with the
 * whole event, so the trail survives in the logs; it never turns a decided response into a different one.
 * With `early`, the write already sent by startAudit is awaited instead; if the event changed since (the
 * activation failed, so the outcome is no longer an issue), the final event is stored over it: an event is
 * keyed by its id and time, so the request still has exactly one.
 */
export async function recordAudit(
  store: GrantStore,
  log: Logger,
  event: AuditEvent,
  early?: AuditWrite,
): Promise<void> {
  log.info("audit", { audit: event });
  if (early) {
    // Awaited even when it will be replaced, so that the two writes cannot land out of order.
    const failed = await early.settled;
    if (JSON.stringify(event) === early.sent) {
      if (failed) log.error("audit event not stored", { eventId: event.eventId, error: failed.name });
      return;
    }
  }
  try {
    await store.putAudit(event);
  } catch (err) {
    log.error("audit event not stored", { eventId: event.eventId, error: (err as Error).name });
  }
}
