// The broker.config.yaml format of CONTRACT §2, as one zod schema: the source of the types, the runtime
// validation, and the JSON Schema shipped for editors (schema/broker.config.schema.json).

import { z } from "zod";
import { DEFAULT_RETENTION_DAYS } from "./defaults.ts";
import { replacesSchema } from "./replaces-schema.ts";

/** How long finished grants and audit events are kept when the config does not say: 400 days. */
export { DEFAULT_RETENTION_DAYS };

import { taskApprovalSchema } from "./approval-schema.ts";
import { auditSchema } from "./audit-schema.ts";
import { eventsRules, eventsSchema } from "./events-schema.ts";
import { githubAppSchema, githubTaskSchema } from "./github-schema.ts";
import { inlineJwkProblem } from "./jwk.ts";
import { organizationSchema } from "./organization-schema.ts";
import { databaseSchema, postgresTaskSchema } from "./postgres-schema.ts";
import { secretTaskSchema } from "./secret-schema.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

export const ALLOWED_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

// Each inline key is imported at load (jwk.ts): a key that cannot verify is a config error, not a 503.
const jwk = z.record(z.string(), z.unknown()).superRefine((key, ctx) => {
  const problem = inlineJwkProblem(key);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const issuerSchema = z
  .object({
    name,
    issuer: z.string().url("must be a URL"),
    jwksUri: z.string().url("must be a URL").optional(),
    jwks: z
      .object({ keys: z.array(jwk).min(1, "must hold at least one key") })
      .strict()
      .optional(),
    algorithms: z
      .array(
        z.enum(ALLOWED_ALGORITHMS, {
          message: `must be one of ${ALLOWED_ALGORITHMS.join(", ")} (never none or HS*)`,
        }),
      )
      .min(1)
      .default(["RS256"]),
    maxTokenAgeSeconds: z.number().int().min(1).max(86_400).default(900),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  })
  .strict()
  .refine((i) => !(i.jwksUri && i.jwks), { message: "give jwksUri or jwks, not both", path: ["jwks"] });

const replaces = replacesSchema;

export const workloadSchema = z
  .object({
    name,
    issuer: name,
    subject: z.string().min(1).max(512),
    owner: z.string().min(1).max(256).optional(),
    disabled: z.boolean().default(false),
    replaces,
  })
  .strict();

const sensitivity = z.enum(["low", "medium", "high", "critical"]);

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Approver issuers and where new requests are announced (CONTRACT §10). */
export const approvalsSchema = z
  .object({
    issuers: z.array(name).min(1),
    notify: z
      .object({
        // A request names workloads and purposes: never sent in the clear beyond this machine.
        webhookUrl: z
          .string()
          .url("must be a URL")
          .refine((u) => {
            const url = new URL(u);
            return (
              url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK_HOSTS.has(url.hostname))
            );
          }, "must be https (http only for a loopback host)")
          .optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

const policyStatement = z
  .object({
    Sid: z.string().optional(),
    Effect: z.enum(["Allow", "Deny"]),
    Action: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotAction: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Resource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    NotResource: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    Condition: z
      .record(z.string(), z.record(z.string(), z.union([z.string(), z.array(z.string())])))
      .optional(),
  })
  .strict();

export const sessionPolicySchema = z
  .object({
    Version: z.literal("2012-10-17"),
    Id: z.string().optional(),
    Statement: z.array(policyStatement).min(1),
  })
  .strict();

/** An IAM role ARN, in any partition; shared with the construct's checks of role ARNs given as props. */
export const ROLE_ARN_PATTERN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

const roleArn = z.string().regex(ROLE_ARN_PATTERN, "must be an IAM role ARN");

export const awsStsTaskSchema = z
  .object({
    name,
    provider: z.literal("aws-sts"),
    roleArn,
    sessionPolicy: sessionPolicySchema.optional(),
    managedPolicyArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/.+$/, "must be an IAM policy ARN"))
      .max(10, "STS accepts at most 10 managed policy ARNs")
      .default([]),
    // A role in the task role's account that the broker assumes to write that role's revocation policy,
    // for task roles in another account (BrokerTargetRole creates it). Same account: leave it out.
    revocationRoleArn: roleArn.optional(),
    externalId: z
      .string()
      .regex(/^[\w+=,.@:/-]{2,1224}$/, "must be 2-1224 characters of [A-Za-z0-9+=,.@:/_-]")
      .optional(),
    maxDurationSeconds: z.number().int().min(900).max(43_200).default(900),
    sensitivity: sensitivity.default("medium"),
    approval: taskApprovalSchema.optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region")
      .optional(),
    replaces,
  })
  .strict();

export const jwtTaskSchema = z
  .object({
    name,
    provider: z.literal("jwt"),
    audience: z.string().min(1).max(512),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, "must be an OAuth scope token"))
      .default([]),
    maxDurationSeconds: z.number().int().min(60).max(3600).default(300),
    sensitivity: sensitivity.default("medium"),
    replaces,
    approval: taskApprovalSchema.optional(),
  })
  .strict();

export const taskSchema = z.discriminatedUnion("provider", [
  awsStsTaskSchema,
  jwtTaskSchema,
  postgresTaskSchema,
  githubTaskSchema,
  secretTaskSchema,
]);

const accountId = z.string().regex(/^\d{12}$/, "must be a 12-digit AWS account id");

/** CONTRACT §9: which accounts `inventory sync` reads, and how the debt is counted. */
export const inventorySchema = z
  .object({
    accounts: z.array(z.object({ accountId, roleArn: roleArn.optional() }).strict()).default([]),
    ownerTagKeys: z.array(z.string().min(1).max(128)).min(1).default(["owner"]),
    staleAfterDays: z.number().int().min(1).max(3650).default(90),
    reviewValidDays: z.number().int().min(1).max(3650).default(90),
    snapshotsKept: z.number().int().min(1).max(1000).default(90),
    /** Regions whose Secrets Manager secrets a live sync reads besides those of the secret tasks (CONTRACT §15). */
    secretRegions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "must be an AWS region")).optional(),
    /** The broker's own IAM principals (role ARNs); the CDK construct adds its function roles. */
    brokerPrincipals: z
      .array(z.string().regex(/^arn:aws[a-z-]*:(iam|sts)::\d{12}:.+$/, "must be an IAM ARN"))
      .default([]),
    /** CONTRACT §16: the accounts come from AWS Organizations instead of `accounts`. */
    organization: organizationSchema.optional(),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1),
    audience: z.string().min(1).max(512),
    issuerUrl: z.string().url("must be a URL"),
    issuers: z.array(issuerSchema).min(1),
    workloads: z.array(workloadSchema).default([]),
    tasks: z.array(taskSchema).min(1),
    approvals: approvalsSchema.optional(),
    databases: z.array(databaseSchema).default([]),
    githubApps: z.array(githubAppSchema).default([]),
    policies: z.array(z.string().min(1)).min(1),
    auditRetentionDays: z.number().int().min(1).max(3650).default(DEFAULT_RETENTION_DAYS),
    grantRetentionDays: z.number().int().min(1).max(3650).default(DEFAULT_RETENTION_DAYS),
    inventory: inventorySchema.optional(),
    events: eventsSchema.optional(),
    audit: auditSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const dup = (items: { name: string }[], key: string) => {
      const seen = new Set<string>();
      items.forEach((item, i) => {
        if (seen.has(item.name))
          ctx.addIssue({ code: "custom", path: [key, i, "name"], message: `duplicate name ${item.name}` });
        seen.add(item.name);
      });
    };
    dup(c.issuers, "issuers");
    dup(c.workloads, "workloads");
    dup(c.tasks, "tasks");
    dup(c.databases, "databases");
    const databaseNames = new Set(c.databases.map((d) => d.name));
    c.tasks.forEach((t, i) => {
      if (t.provider === "postgres" && !databaseNames.has(t.database))
        ctx.addIssue({
          code: "custom",
          path: ["tasks", i, "database"],
          message: `no database named ${t.database}`,
        });
    });
    dup(c.githubApps, "githubApps");
    const apps = new Set(c.githubApps.map((a) => a.name));
    c.tasks.forEach((t, i) => {
      if (t.provider === "github" && !apps.has(t.app))
        ctx.addIssue({
          code: "custom",
          path: ["tasks", i, "app"],
          message: `no githubApps entry named ${t.app}`,
        });
    });
    // Tokens pick their issuer by `iss`: two entries with one URL would silently shadow each other.
    const issuerUrls = new Set<string>();
    c.issuers.forEach((issuer, i) => {
      if (issuerUrls.has(issuer.issuer))
        ctx.addIssue({
          code: "custom",
          path: ["issuers", i, "issuer"],
          message: `duplicate issuer URL ${issuer.issuer}`,
        });
      issuerUrls.add(issuer.issuer);
    });
    c.inventory?.accounts.forEach((a, i) => {
      if (c.inventory?.accounts.findIndex((b) => b.accountId === a.accountId) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["inventory", "accounts", i, "accountId"],
          message: `duplicate account ${a.accountId}`,
        });
      if (a.roleArn && a.roleArn.split(":")[4] !== a.accountId)
        ctx.addIssue({
          code: "custom",
          path: ["inventory", "accounts", i, "roleArn"],
          message: "must be a role in that account",
        });
    });
    if (c.inventory?.organization && c.inventory.accounts.length > 0)
      ctx.addIssue({
        code: "custom",
        path: ["inventory", "accounts"],
        message: "give either accounts or organization: with organization, Organizations lists the accounts",
      });
    const issuerNames = new Set(c.issuers.map((i) => i.name));
    c.workloads.forEach((w, i) => {
      if (!issuerNames.has(w.issuer))
        ctx.addIssue({
          code: "custom",
          path: ["workloads", i, "issuer"],
          message: `no issuer named ${w.issuer}`,
        });
    });
    approvalRules(c, issuerNames, ctx);
    eventsRules(c, issuerNames, ctx);
  });

/** Approver issuers exist and identify no workload; a task that needs approval has someone to give it. */
function approvalRules(
  c: {
    approvals?: { issuers: string[] } | undefined;
    workloads: { issuer: string }[];
    tasks: { approval?: unknown }[];
  },
  issuerNames: Set<string>,
  ctx: z.RefinementCtx,
): void {
  const workloadIssuers = new Set(c.workloads.map((w) => w.issuer));
  c.approvals?.issuers.forEach((issuer, i) => {
    const path = ["approvals", "issuers", i];
    if (!issuerNames.has(issuer))
      ctx.addIssue({ code: "custom", path, message: `no issuer named ${issuer}` });
    // A workload's token must never count as a person's approval: the two issuer sets are disjoint.
    else if (workloadIssuers.has(issuer))
      ctx.addIssue({
        code: "custom",
        path,
        message: `issuer ${issuer} identifies workloads; an approver issuer may not`,
      });
  });
  c.tasks.forEach((t, i) => {
    if (t.approval !== undefined && !c.approvals)
      ctx.addIssue({
        code: "custom",
        path: ["tasks", i, "approval"],
        message: "needs approvals.issuers: nobody could approve this task",
      });
  });
}

export type BrokerConfig = z.infer<typeof configSchema>;
export type IssuerConfig = z.infer<typeof issuerSchema>;
export type WorkloadConfig = z.infer<typeof workloadSchema>;
export type TaskConfig = z.infer<typeof taskSchema>;
export type AwsStsTaskConfig = z.infer<typeof awsStsTaskSchema>;
export type JwtTaskConfig = z.infer<typeof jwtTaskSchema>;
export type InventoryConfig = z.infer<typeof inventorySchema>;
export type TaskApprovalConfig = z.infer<typeof taskApprovalSchema>;
export type ApprovalsConfig = z.infer<typeof approvalsSchema>;
export type SessionPolicy = z.infer<typeof sessionPolicySchema>;
export type GithubTaskConfig = z.infer<typeof githubTaskSchema>;
export type GithubAppConfig = z.infer<typeof githubAppSchema>;
