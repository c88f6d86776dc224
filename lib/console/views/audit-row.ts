// One audit event as a row of the console (the same words as `credbroker audit`).
import type { AuditEvent } from "../../core/audit.ts";

/** What a row of the audit view says about an event (the same words as `credbroker audit`). */
export function auditRow(e: AuditEvent) {
  return {
    eventId: e.eventId,
    time: e.time,
    outcome: e.outcome,
    workload: e.workload ?? e.subject ?? "",
    task: e.task ?? "",
    grantId: e.grantId ?? "",
    actor:
      e.actor ?? (e.approverSubject ? `${e.approverSubject} (${e.approverIssuer ?? "approver"})` : e.kind),
    why: e.errorCode
      ? `${e.errorCode}${e.reasons?.length ? `: ${e.reasons.join("; ")}` : ""}`
      : (e.reasons ?? []).join("; "),
  };
}
