// The report's `taskEnd` (CONTRACT §13) from the period's audit events: the CI and AWS events the broker
// acted on, the grants a task's end revoked, the token requests refused because their task had ended, and
// the grants of CI issuers that their workload released itself before the end arrived.
import type { EventsConfig } from "../../config/events-schema.ts";
import type { AuditEvent } from "../audit.ts";
import { TASK_ENDED_REASON } from "../events/end-task.ts";
import { TASK_ENDED_DENIAL } from "../events/token-check.ts";

export interface TaskEndSection {
  /** Webhook deliveries and findings handled (distinct delivery or finding ids). */
  events: number;
  /** Grants revoked because their CI job or run ended. */
  grantsEnded: number;
  /** Token requests refused because the job or run their token named had ended. */
  deniedAfterEnd: number;
  /** Grants of the CI systems' issuers released by their workload (the post step) before the end. */
  releasedBeforeEnd: number;
}

export function taskEndSection(
  events: readonly AuditEvent[],
  config: { events?: EventsConfig | undefined },
): TaskEndSection {
  const ciIssuers = new Set([
    ...(config.events?.github?.issuers ?? []),
    ...(config.events?.gitlab?.issuers ?? []),
  ]);
  const deliveries = new Set<string>();
  let grantsEnded = 0;
  let deniedAfterEnd = 0;
  let releasedBeforeEnd = 0;
  for (const e of events) {
    if (e.kind === "event" && e.deliveryId) deliveries.add(`${e.actor ?? ""}#${e.deliveryId}`);
    if (
      e.kind === "event" &&
      e.outcome === "revoke" &&
      e.reasons?.[0] === TASK_ENDED_REASON &&
      !e.revocationMode
    )
      grantsEnded++;
    if (e.outcome === "deny" && e.reasons?.includes(TASK_ENDED_DENIAL)) deniedAfterEnd++;
    if (e.outcome === "release" && e.issuer && ciIssuers.has(e.issuer)) releasedBeforeEnd++;
  }
  return { events: deliveries.size, grantsEnded, deniedAfterEnd, releasedBeforeEnd };
}
