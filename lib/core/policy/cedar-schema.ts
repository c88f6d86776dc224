/** The Cedar schema of CONTRACT §3 and §10: every policy is validated against it in strict mode. */
export const CEDAR_SCHEMA = `entity Workload = { name: String, issuer: String, subject: String, owner?: String } tags String;
entity Task = { name: String, provider: String, sensitivity: String };
action issue appliesTo { principal: [Workload], resource: [Task],
  context: { sourceIp: ipaddr, now: Long, hourUtc: Long, weekdayUtc: Long, durationSeconds: Long, purpose: String } };
entity Approver = { name: String, issuer: String } tags String;
action approve appliesTo { principal: [Approver], resource: [Task],
  context: { workload: String, owner: String, purpose: String, requestId: String } };
`;
