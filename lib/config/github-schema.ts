// The `githubApps` entries and `github` tasks of CONTRACT §8.1. Everything GitHub would refuse that can be
// known from the config alone (an unknown permission or level, a wildcard, another owner's repository, too
// many repositories) is a config error here, naming the path, never a 400 at request time.
import { z } from "zod";
import { GITHUB_PERMISSIONS } from "../core/providers/github/permissions.ts";
import {
  GITHUB_OWNER_PATTERN,
  MAX_REPOSITORIES,
  repositoryTemplateProblem,
} from "../core/providers/github/repositories.ts";
import { taskApprovalSchema } from "./approval-schema.ts";
import { replacesSchema } from "./replaces-schema.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

/** A KMS key ARN (not an alias: the construct grants kms:Sign on the key itself). */
export const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/;

const isLoopback = (host: string): boolean =>
  host === "127.0.0.1" || host === "[::1]" || host === "localhost";

// The App JWT and the tokens travel to this URL: plain http only to a loopback stand-in.
const apiUrl = z
  .string()
  .url("must be a URL")
  .refine(
    (u) => {
      const url = new URL(u);
      return url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname));
    },
    { message: "must be https (http only for a loopback host)" },
  )
  .transform((u) => u.replace(/\/+$/, ""));

export const githubAppSchema = z
  .object({
    name,
    // The `iss` of the App JWT: GitHub takes the numeric App ID or the App's Client ID (Iv…).
    appId: z
      .string()
      .regex(/^(\d{1,20}|Iv[0-9A-Za-z.]{1,64})$/, "must be the App ID (digits) or its Client ID (Iv…)"),
    apiUrl: apiUrl.default("https://api.github.com"),
    privateKey: z
      .object({
        kmsKeyArn: z.string().regex(KMS_KEY_ARN_PATTERN, "must be a KMS key ARN").optional(),
        file: z.string().min(1).optional(),
      })
      .strict()
      .refine((k) => (k.kmsKeyArn === undefined) !== (k.file === undefined), {
        message: "give exactly one of kmsKeyArn or file",
      }),
  })
  .strict();

// One optional key per permission GitHub has, each with only the levels GitHub accepts for it: editors
// complete them from the JSON Schema, and anything else is an unrecognized key or an invalid option.
const permissionsSchema = z
  .object(
    Object.fromEntries(
      Object.entries(GITHUB_PERMISSIONS).map(([permission, levels]) => [
        permission,
        z.enum(levels as unknown as [string, ...string[]]).optional(),
      ]),
    ),
  )
  .strict()
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: "name at least one permission: an empty set would give the token every permission of the App",
  });

export const githubTaskSchema = z
  .object({
    name,
    provider: z.literal("github"),
    app: name,
    owner: z.string().regex(GITHUB_OWNER_PATTERN, "must be a GitHub account login"),
    repositories: z
      .array(z.string().min(1).max(512))
      .min(1, "name at least one repository")
      .max(MAX_REPOSITORIES, `GitHub allows at most ${MAX_REPOSITORIES} repositories per token`),
    permissions: permissionsSchema,
    maxDurationSeconds: z.number().int().min(60).max(3600).default(3600),
    sensitivity: z.enum(["low", "medium", "high", "critical"]).default("medium"),
    approval: taskApprovalSchema.optional(),
    replaces: replacesSchema,
  })
  .strict()
  .superRefine((t, ctx) => {
    t.repositories.forEach((template, i) => {
      const problem = repositoryTemplateProblem(template, t.owner);
      if (problem) ctx.addIssue({ code: "custom", path: ["repositories", i], message: problem });
    });
  });
