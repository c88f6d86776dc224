// Audit events (CONTRACT §6): one per decision, issuance, revocation and sweep action. They carry hashes
// and ids, never a token, credential or secret.

export type AuditOutcome =
  | "allow"
  | "deny"
  | "error"
  | "issue"
  | "fail"
  | "revoke"
  | "release"
  | "expire"
  | "change";

export interface AuditEvent {
  eventId: string;
  /** ISO 8601 with milliseconds. */
  time: string;
  kind: "token" | "revoke" | "sweep" | "admin" | "signal";
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
}

export interface AuditSink {
  record(event: AuditEvent): Promise<void>;
}
