// A grant as read back from DynamoDB, checked strictly (STYLE.md §5). An item that does not parse is a
// store fault, answered like any other (503 on a request, an error the sweep counts and retries), never a
// half-read grant that a decision, an introspection or a revocation could act on.
import { z } from "zod";
import type { Grant } from "../core/grant.ts";

export const grantItemSchema = z
  .object({
    grantId: z.string().min(1),
    workload: z.string().min(1),
    subject: z.string(),
    issuer: z.string(),
    task: z.string().min(1),
    provider: z.enum(["aws-sts", "jwt", "github", "postgres", "secret"]),
    status: z.enum(["issuing", "active", "expired", "revoked", "failed"]),
    issuedAt: z.string(),
    expiresAt: z.string(),
    revokedAt: z.string().optional(),
    reason: z.string().optional(),
    policyIds: z.array(z.string()).default([]),
    sourceIp: z.string(),
    purpose: z.string(),
    decisionId: z.string(),
    durationSeconds: z.number(),
    configVersion: z.string(),
    subjectTokenSha256: z.string(),
    claimTags: z.record(z.string(), z.string()).optional(),
    taskRun: z.string().optional(),
    taskJob: z.string().optional(),
    roleArn: z.string().optional(),
    accessKeyId: z.string().optional(),
    revocation: z.enum(["grant-listed", "token-issue-time"]).optional(),
    revocationPending: z.boolean().optional(),
    database: z.string().optional(),
    reassignTo: z.string().optional(),
    tokenSha256: z.string().optional(),
    tokenCiphertext: z.string().optional(),
    secretArn: z.string().optional(),
    versionId: z.string().optional(),
    rotateAfterUse: z.boolean().optional(),
    revocationAwaiting: z.string().optional(),
  })
  .strict();

/** The grant's own attributes of a stored item (its index keys and TTL are the store's), checked. */
export function grantFromItem(item: Record<string, unknown>): Grant {
  const fields: Record<string, unknown> = {};
  for (const name of Object.keys(grantItemSchema.shape))
    if (item[name] !== undefined) fields[name] = item[name];
  return grantItemSchema.parse(fields) satisfies Grant;
}
