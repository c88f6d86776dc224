// The Cedar schema of CONTRACT §3 and §10, chosen per config (§17): every policy is validated against it in
// strict mode. The approver entity and the `approve` action exist only for a config with `approvals`, so a
// config that never approves anything validates exactly as it did before approvals existed.
const ISSUE_SCHEMA = `entity Workload = { name: String, issuer: String, subject: String, owner?: String } tags String;
entity Task = { name: String, provider: String, sensitivity: String };
action issue appliesTo { principal: [Workload], resource: [Task],
  context: { sourceIp: ipaddr, now: Long, hourUtc: Long, weekdayUtc: Long, durationSeconds: Long, purpose: String } };
`;

// `approve` carries the context fields every action shares (the approver's own request: sourceIp, now, hourUtc,
// weekdayUtc), so an open-action rule over them, such as a global network forbid, validates and applies to
// approvals too.
const APPROVE_SCHEMA = `entity Approver = { name: String, issuer: String } tags String;
action approve appliesTo { principal: [Approver], resource: [Task],
  context: { workload: String, owner: String, purpose: String, requestId: String,
             sourceIp: ipaddr, now: Long, hourUtc: Long, weekdayUtc: Long } };
`;

export interface SchemaFeatures {
  /** The config has `approvals`: the `approve` action and the `Approver` entity enter the schema. */
  approvals: boolean;
}

export function cedarSchema(features: SchemaFeatures): string {
  return features.approvals ? ISSUE_SCHEMA + APPROVE_SCHEMA : ISSUE_SCHEMA;
}

/** The whole vocabulary (a config with approvals): what the docs show. */
export const CEDAR_SCHEMA = cedarSchema({ approvals: true });
