// Audit events (CONTRACT §6): one per decision, issuance, revocation and sweep action. They carry hashes
// and ids, never a token, credential or secret.

import type { Grant, RevocationMode } from "./grant.ts";
import { newId } from "./ids.ts";
import type { RecordedInput } from "./impact/recorded-input.ts";

export type AuditOutcome =
  | "allow"
  | "deny"
  | "error"
  | "issue"
  | "fail"
  | "revoke"
  | "release"
  | "expire"
  | "change"
  | "pending"
  | "approve"
  | "ignored";

export interface AuditEvent {
  eventId: string;
  /** ISO 8601 with milliseconds. */
  time: string;
  kind: "token" | "revoke" | "sweep" | "admin" | "signal" | "approval" | "event";
  outcome: AuditOutcome;
  decisionId?: string;
  grantId?: string;
  workload?: string;
  subject?: string;
  issuer?: string;
  task?: string;
  policyIds?: string[];
  reasons?: string[];
  errorCode?: string;
  sourceIp?: string;
  subjectTokenSha256?: string;
  durationSeconds?: number;
  purpose?: string;
  configVersion?: string;
  actor?: string;
  /**
   * Set on the event that records how an earlier revocation took effect in IAM (the size fallback): it is
   * not a second revocation, and counts of revocations skip it.
   */
  revocationMode?: RevocationMode;
  /** Human approval (CONTRACT §10): the request, and the approver's issuer name and `sub`. */
  approvalId?: string;
  approverIssuer?: string;
  approverSubject?: string;
  /** Task end and findings (CONTRACT §13): the webhook's delivery id or the finding's id, and its event. */
  deliveryId?: string;
  event?: string;
  /** A token decision's inputs, enough to decide it again (CONTRACT §14); never a token. */
  input?: RecordedInput;
}

/** An event about one grant: who, what and why come from the grant record itself. */
export function grantEvent(
  grant: Grant,
  nowMs: number,
  fields: Pick<AuditEvent, "kind" | "outcome" | "reasons"> & Partial<AuditEvent>,
): AuditEvent {
  return {
    eventId: newId(nowMs),
    time: new Date(nowMs).toISOString(),
    grantId: grant.grantId,
    decisionId: grant.decisionId,
    workload: grant.workload,
    subject: grant.subject,
    issuer: grant.issuer,
    task: grant.task,
    policyIds: grant.policyIds,
    sourceIp: grant.sourceIp,
    ...fields,
  };
}
