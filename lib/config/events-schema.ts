// The `events` section of CONTRACT §13: the CI systems' webhooks (a job or run ended) and AWS security
// findings (a credential was misused). Everything is optional; a config without it behaves as before.
import { z } from "zod";
import { SECRET_ARN_PATTERN } from "./postgres-schema.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

/** Where a webhook secret lives: Secrets Manager on AWS, an environment variable in dev and tests. */
export const webhookSecretSchema = z.union(
  [
    z
      .object({ secretArn: z.string().regex(SECRET_ARN_PATTERN, "must be a Secrets Manager secret ARN") })
      .strict(),
    z
      .object({
        env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name"),
      })
      .strict(),
  ],
  { message: "give { secretArn: ARN } or { env: VAR }" },
);

const webhookSchema = z
  .object({
    secret: webhookSecretSchema,
    /** Workload issuers whose tokens this CI system issues (GitHub Actions or GitLab CI tokens). */
    issuers: z.array(name).min(1),
  })
  .strict();

export const FINDING_SOURCES = ["aws.guardduty", "aws.securityhub"] as const;

export const findingsSchema = z
  .object({
    sources: z
      .array(z.enum(FINDING_SOURCES))
      .min(1)
      .default([...FINDING_SOURCES]),
    /** GuardDuty's 0–10 scale; Security Hub's labels map LOW 1, MEDIUM 4, HIGH 7, CRITICAL 9. */
    minSeverity: z.number().min(0).max(10).default(4),
    signal: z
      .string()
      .regex(/^[a-z][a-z0-9_.-]{0,63}$/, "must be a signal name ([a-z][a-z0-9_.-]*)")
      .default("finding"),
  })
  .strict();

export const eventsSchema = z
  .object({
    github: webhookSchema.optional(),
    gitlab: webhookSchema.optional(),
    findings: findingsSchema.optional(),
  })
  .strict();

export type EventsConfig = z.infer<typeof eventsSchema>;
export type WebhookConfig = z.infer<typeof webhookSchema>;
export type WebhookSecretRef = z.infer<typeof webhookSecretSchema>;
export type FindingsConfig = z.infer<typeof findingsSchema>;

/** The webhooks' issuers exist, identify workloads rather than approvers, and speak for one CI system. */
export function eventsRules(
  c: { events?: EventsConfig | undefined; approvals?: { issuers: string[] } | undefined },
  issuerNames: Set<string>,
  ctx: z.RefinementCtx,
): void {
  const claimedBy = new Map<string, string>();
  for (const source of ["github", "gitlab"] as const)
    c.events?.[source]?.issuers.forEach((issuer, i) => {
      const path = ["events", source, "issuers", i];
      if (!issuerNames.has(issuer))
        ctx.addIssue({ code: "custom", path, message: `no issuer named ${issuer}` });
      else if (c.approvals?.issuers.includes(issuer))
        ctx.addIssue({ code: "custom", path, message: `issuer ${issuer} identifies approvers, not CI jobs` });
      else if (claimedBy.has(issuer) && claimedBy.get(issuer) !== source)
        ctx.addIssue({
          code: "custom",
          path,
          message: `issuer ${issuer} is already listed under events.${claimedBy.get(issuer)}`,
        });
      claimedBy.set(issuer, source);
    });
}
