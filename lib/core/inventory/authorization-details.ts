// The elements of GetAccountAuthorizationDetails, in both of the shapes they arrive in: the IAM API's (via
// the SDK: dates as Date, policy documents URL-encoded) and the AWS CLI's JSON (dates as ISO text, documents
// decoded). Each element is checked with zod and reduced to PrincipalFacts / ManagedPolicyFacts at once, so
// a caller that feeds elements one by one (a page, or a streamed file) never holds the documents.
import { z } from "zod";
import { InventoryError } from "./errors.ts";
import type { AccountFacts, CredentialRow, ManagedPolicyFacts, PrincipalFacts } from "./model.ts";
import { policyStatements, privilegeFindings, trustedPrincipals } from "./policy-document.ts";
import { type SecretFacts, type SecretStatement, secretFacts, secretStatements } from "./secrets.ts";

const time = z.union([z.string(), z.date()]).transform((v, ctx) => {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "is not a date" });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});
const inlinePolicy = z.object({ PolicyName: z.string(), PolicyDocument: z.unknown() });
const attached = z.object({ PolicyName: z.string().optional(), PolicyArn: z.string() });
const tag = z.object({ Key: z.string(), Value: z.string() });
const arn = z.string().regex(/^arn:aws[a-z-]*:iam::/, "is not an IAM ARN");

const userDetail = z.object({
  UserName: z.string(),
  Arn: arn,
  Path: z.string().default("/"),
  CreateDate: time.optional(),
  UserPolicyList: z.array(inlinePolicy).default([]),
  GroupList: z.array(z.string()).default([]),
  AttachedManagedPolicies: z.array(attached).default([]),
  Tags: z.array(tag).default([]),
});
const groupDetail = z.object({
  GroupName: z.string(),
  Arn: arn,
  Path: z.string().default("/"),
  CreateDate: time.optional(),
  GroupPolicyList: z.array(inlinePolicy).default([]),
  AttachedManagedPolicies: z.array(attached).default([]),
});
const roleDetail = z.object({
  RoleName: z.string(),
  Arn: arn,
  Path: z.string().default("/"),
  CreateDate: time.optional(),
  AssumeRolePolicyDocument: z.unknown().optional(),
  RolePolicyList: z.array(inlinePolicy).default([]),
  AttachedManagedPolicies: z.array(attached).default([]),
  Tags: z.array(tag).default([]),
  RoleLastUsed: z.object({ LastUsedDate: time.optional() }).passthrough().optional(),
});
const policyDetail = z.object({
  PolicyName: z.string(),
  Arn: arn,
  DefaultVersionId: z.string().optional(),
  PolicyVersionList: z
    .array(
      z.object({ VersionId: z.string().optional(), IsDefaultVersion: z.boolean(), Document: z.unknown() }),
    )
    .default([]),
});

/** The four lists of the document, by their names in the API and the CLI's JSON. */
export const AUTHORIZATION_DETAIL_LISTS = [
  "UserDetailList",
  "GroupDetailList",
  "RoleDetailList",
  "Policies",
] as const;
export type AuthorizationDetailList = (typeof AUTHORIZATION_DETAIL_LISTS)[number];

function parse<T>(schema: z.ZodType<T>, raw: unknown, where: string): T {
  const out = schema.safeParse(raw);
  if (out.success) return out.data;
  const issue = out.error.issues[0]!;
  const path = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
  throw new InventoryError(`authorization details: ${where}${path}: ${issue.message}`);
}

/** Accumulates one account's facts from elements and credential report rows, in any order. */
export class AccountBuilder {
  private readonly principals: PrincipalFacts[] = [];
  private readonly policies = new Map<string, ManagedPolicyFacts>();
  private readonly rows = new Map<string, CredentialRow>();
  private readonly counts: Record<AuthorizationDetailList, number> = {
    UserDetailList: 0,
    GroupDetailList: 0,
    RoleDetailList: 0,
    Policies: 0,
  };
  generatedTime?: string;
  private readonly ownerKeys: Set<string>;

  constructor(ownerTagKeys: readonly string[]) {
    this.ownerKeys = new Set(ownerTagKeys.map((k) => k.toLowerCase()));
  }

  private secrets: SecretFacts[] | undefined;

  /** Privilege findings and secret statements of inline policies, each document parsed once. */
  private inline(
    list: { PolicyName: string; PolicyDocument: unknown }[],
    where: string,
  ): { inlineFindings: string[]; secretStatements?: SecretStatement[] } {
    const inlineFindings: string[] = [];
    const secrets: SecretStatement[] = [];
    for (const p of list) {
      const statements = policyStatements(p.PolicyDocument, `${where} policy ${p.PolicyName}`);
      for (const f of privilegeFindings(statements))
        inlineFindings.push(`inline policy ${p.PolicyName} ${f}`);
      secrets.push(
        ...secretStatements(statements as Record<string, unknown>[], `inline policy ${p.PolicyName}`),
      );
    }
    return secrets.length > 0 ? { inlineFindings, secretStatements: secrets } : { inlineFindings };
  }

  /** Adds one secret as ListSecrets gives it (with its resource policy, when read). */
  addSecret(raw: unknown): void {
    this.secrets ??= [];
    this.secrets.push(secretFacts(raw, `SecretList[${this.secrets.length}]`));
  }

  /** Marks the account's secrets as read, even when it has none. */
  secretsRead(): void {
    this.secrets ??= [];
  }

  private owners(tags: { Key: string; Value: string }[]): string[] {
    return tags
      .filter((t) => this.ownerKeys.has(t.Key.toLowerCase()) && t.Value.trim() !== "")
      .map((t) => `${t.Key}=${t.Value}`);
  }

  /** Adds one element of one of the four lists. */
  add(list: AuthorizationDetailList, raw: unknown): void {
    const where = `${list}[${this.counts[list]++}]`;
    if (list === "UserDetailList") {
      const u = parse(userDetail, raw, where);
      this.principals.push({
        kind: "user",
        arn: u.Arn,
        name: u.UserName,
        path: u.Path,
        ...(u.CreateDate ? { createdAt: u.CreateDate } : {}),
        ownerTags: this.owners(u.Tags),
        ...this.inline(u.UserPolicyList, `user ${u.UserName}`),
        attached: u.AttachedManagedPolicies.map((a) => a.PolicyArn),
        groups: u.GroupList,
        trustedBy: [],
      });
    } else if (list === "GroupDetailList") {
      const g = parse(groupDetail, raw, where);
      this.principals.push({
        kind: "group",
        arn: g.Arn,
        name: g.GroupName,
        path: g.Path,
        ...(g.CreateDate ? { createdAt: g.CreateDate } : {}),
        ownerTags: [],
        ...this.inline(g.GroupPolicyList, `group ${g.GroupName}`),
        attached: g.AttachedManagedPolicies.map((a) => a.PolicyArn),
        groups: [],
        trustedBy: [],
      });
    } else if (list === "RoleDetailList") {
      const r = parse(roleDetail, raw, where);
      const partition = r.Arn.split(":")[1] ?? "aws";
      const trust =
        r.AssumeRolePolicyDocument === undefined
          ? []
          : trustedPrincipals(
              policyStatements(r.AssumeRolePolicyDocument, `role ${r.RoleName} trust policy`),
              partition,
            );
      const lastUsed = r.RoleLastUsed?.LastUsedDate;
      this.principals.push({
        kind: "role",
        arn: r.Arn,
        name: r.RoleName,
        path: r.Path,
        ...(r.CreateDate ? { createdAt: r.CreateDate } : {}),
        ownerTags: this.owners(r.Tags),
        ...this.inline(r.RolePolicyList, `role ${r.RoleName}`),
        attached: r.AttachedManagedPolicies.map((a) => a.PolicyArn),
        groups: [],
        trustedBy: trust,
        ...(lastUsed ? { lastUsed } : {}),
      });
    } else {
      const p = parse(policyDetail, raw, where);
      // The default version is the one in force; the others are history.
      const version =
        p.PolicyVersionList.find((v) => v.IsDefaultVersion) ??
        p.PolicyVersionList.find((v) => v.VersionId === p.DefaultVersionId);
      const statements = version ? policyStatements(version.Document, `policy ${p.PolicyName}`) : [];
      const secrets = secretStatements(
        statements as Record<string, unknown>[],
        `managed policy ${p.PolicyName}`,
      );
      this.policies.set(p.Arn, {
        arn: p.Arn,
        name: p.PolicyName,
        findings: privilegeFindings(statements),
        ...(secrets.length > 0 ? { secretStatements: secrets } : {}),
      });
    }
  }

  addCredentialRow(row: CredentialRow): void {
    this.rows.set(row.arn, row);
  }

  /** How many elements of each list were added (the CLI's output must have all four lists). */
  get elementCounts(): Readonly<Record<AuthorizationDetailList, number>> {
    return this.counts;
  }

  /**
   * The account's facts. The account id is the one every ARN names; a mix, or one that contradicts
   * `expected`, is refused: a snapshot must describe one account.
   */
  build(expected?: string): AccountFacts {
    const accounts = new Set<string>();
    for (const p of this.principals) accounts.add(p.arn.split(":")[4] ?? "");
    for (const r of this.rows.values()) accounts.add(r.arn.split(":")[4] ?? "");
    for (const secret of this.secrets ?? []) accounts.add(secret.arn.split(":")[4] ?? "");
    if (expected) accounts.add(expected);
    if (accounts.size > 1)
      throw new InventoryError(
        `the input names more than one account (${[...accounts].sort().join(", ")}); sync one account at a time`,
      );
    const accountId = [...accounts][0];
    if (!accountId)
      throw new InventoryError("the input holds no principal and no credential report row: nothing to sync");
    return {
      accountId,
      ...(this.generatedTime ? { generatedTime: this.generatedTime } : {}),
      principals: this.principals,
      policies: this.policies,
      credentialRows: this.rows,
      ...(this.secrets ? { secrets: this.secrets } : {}),
    };
  }
}
