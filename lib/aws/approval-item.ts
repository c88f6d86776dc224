// An approval request as read back from DynamoDB, checked strictly (STYLE.md §5): an item that does not
// parse is a store fault, never a half-read request that a poll or an approver could act on.
import { z } from "zod";
import type { ApprovalRequest } from "../core/approvals/request.ts";

const vote = z
  .object({
    issuer: z.string(),
    subject: z.string(),
    decision: z.enum(["approve", "deny"]),
    reason: z.string(),
    atMs: z.number(),
    policyIds: z.array(z.string()),
  })
  .strict();

export const approvalItemSchema = z
  .object({
    approvalId: z.string().min(1),
    status: z.enum(["pending", "approved", "denied", "expired"]),
    workload: z.string().min(1),
    owner: z.string().optional(),
    subject: z.string(),
    issuer: z.string(),
    claimTags: z.record(z.string(), z.string()),
    subjectTokenSha256: z.string(),
    requestSha256: z.string().optional(),
    task: z.string().min(1),
    purpose: z.string(),
    durationSeconds: z.number().int(),
    sourceIp: z.string(),
    decisionId: z.string(),
    needed: z.number().int().min(1),
    windowSeconds: z.number().int(),
    intervalSeconds: z.number().int().min(1),
    requestedAtMs: z.number(),
    expiresAtMs: z.number(),
    lastPolledAtMs: z.number(),
    polls: z.number().int().min(0).optional(),
    votes: z.array(vote),
    decidedAtMs: z.number().optional(),
    grantId: z.string().optional(),
    claimedAtMs: z.number().optional(),
    version: z.number().int().min(0),
  })
  .strict();

/** The request's own attributes of a stored item (its keys, index keys and TTL are the store's), checked. */
export function approvalFromItem(item: Record<string, unknown>): ApprovalRequest {
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(approvalItemSchema.shape))
    if (item[name] !== undefined) fields[name] = item[name];
  return approvalItemSchema.parse(fields) satisfies ApprovalRequest;
}
