// The announcement of a new approval request (CONTRACT §10): a Slack-compatible `{"text"}` body naming the
// workload, its owner, the task, the purpose, the approval id, who may approve and how.
import type { ApprovalRequest } from "./request.ts";

/** Sends one message; resolves whatever happens (failures are the notifier's to log), within a short timeout. */
export interface ApprovalNotifier {
  notify(message: { text: string }): Promise<void>;
}

/** Slack mrkdwn control characters: a purpose written by a workload must not become a link or a mention. */
const mrkdwn = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

export function requestMessage(
  r: ApprovalRequest,
  facts: { brokerUrl: string; approverIssuers: string[]; sensitivity: string },
): { text: string } {
  const id = r.approvalId;
  const lines = [
    `credbroker: approval needed for task *${mrkdwn(r.task)}* (${facts.sensitivity}) requested by workload *${mrkdwn(r.workload)}* (owner ${mrkdwn(r.owner ?? "none")})`,
    `Purpose: ${r.purpose === "" ? "(none given)" : mrkdwn(r.purpose)}`,
    `Approval id: \`${id}\` — needs ${r.needed} distinct approver${r.needed === 1 ? "" : "s"} signed in with ${facts.approverIssuers.map(mrkdwn).join(" or ")}; lapses at ${new Date(r.expiresAtMs).toISOString()}`,
    `Approve: \`credbroker approvals approve ${id} --url ${mrkdwn(facts.brokerUrl)} --token-file APPROVER_TOKEN\` (or deny: \`credbroker approvals deny ${id} --reason TEXT …\`; HTTP: POST ${mrkdwn(facts.brokerUrl)}/approvals/${id} decision=approve|deny)`,
  ];
  return { text: lines.join("\n") };
}
