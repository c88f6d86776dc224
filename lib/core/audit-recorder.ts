import type { AuditEvent } from "./audit.ts";
import type { Logger } from "./logger.ts";
import type { GrantStore } from "./store.ts";

/**
 * Writes an audit event to the store and as a JSON log line. A failed store write is logged with the
 * whole event, so the trail survives in the logs; it never turns a decided response into a different one.
 */
export async function recordAudit(store: GrantStore, log: Logger, event: AuditEvent): Promise<void> {
  log.info("audit", { audit: event });
  try {
    await store.putAudit(event);
  } catch (err) {
    log.error("audit event not stored", { eventId: event.eventId, error: (err as Error).name });
  }
}
