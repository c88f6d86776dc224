// CONTRACT §16: `inventory.organization` — the accounts an inventory sync reads come from AWS Organizations
// (ListAccounts through `roleArn`), each entered through its member role, instead of a hand-kept list.
import { z } from "zod";

const accountId = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");

export const organizationSchema = z
  .object({
    /** A role in the management or delegated-administrator account allowed organizations:ListAccounts. */
    roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, "must be an IAM role ARN"),
    /** The read role's name in every member account (BrokerMemberRoles deploys it). */
    memberRoleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, "must be an IAM role name (no path)"),
    /** Accounts left out of the sync (a sandbox, a suspended-but-not-closed account). */
    excludeAccounts: z.array(accountId).default([]),
    /** Accounts synced at once: in process by the CLI, and the worker's maximum concurrency on AWS. */
    concurrency: z.number().int().min(2).max(100).default(10),
  })
  .strict();

export type OrganizationConfig = z.infer<typeof organizationSchema>;
