// The `secret` task of CONTRACT §15: one Secrets Manager secret (or one key of a JSON secret) handed out
// per decision, and rotated after use when the task says so. Kept beside the main schema like the others.
import { z } from "zod";
import { taskApprovalSchema } from "./approval-schema.ts";
import { SECRET_ARN_PATTERN } from "./postgres-schema.ts";
import { replacesSchema } from "./replaces-schema.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

/**
 * Variables that change how a shell, a runner or a loader behaves: an env name here would let a secret's
 * value (whoever wrote it) take over the job that `eval`s `exchange --format env` or runs the Action.
 */
const RESERVED_ENV = /^(PATH|HOME|SHELL|IFS|ENV|BASH_ENV|PS[0-4]|NODE_OPTIONS|PROMPT_COMMAND)$/;
const RESERVED_ENV_PREFIX = /^(LD_|DYLD_|GITHUB_|RUNNER_|ACTIONS_|CREDBROKER_)/;

export const secretTaskSchema = z
  .object({
    name,
    provider: z.literal("secret"),
    secretArn: z.string().regex(SECRET_ARN_PATTERN, "must be a Secrets Manager secret ARN"),
    /** One key of a JSON SecretString; absent: the whole value. */
    jsonKey: z.string().min(1).max(256).optional(),
    env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name")
      .refine((v) => !RESERVED_ENV.test(v) && !RESERVED_ENV_PREFIX.test(v), {
        message: "may not be a variable the shell, the runner or the broker's own clients use",
      })
      .default("SECRET"),
    rotateAfterUse: z.boolean().default(false),
    /** The secret's customer managed key, when it has one: the token function is granted kms:Decrypt on it. */
    kmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,128}$/, "must be a KMS key ARN")
      .optional(),
    maxDurationSeconds: z.number().int().min(60).max(43_200).default(900),
    sensitivity: z.enum(["low", "medium", "high", "critical"]).default("medium"),
    approval: taskApprovalSchema.optional(),
    replaces: replacesSchema,
  })
  .strict()
  .refine((t) => !t.kmsKeyArn || t.kmsKeyArn.split(":")[3] === t.secretArn.split(":")[3], {
    message: "must be a key in the secret's region",
    path: ["kmsKeyArn"],
  });

export type SecretTaskConfig = z.infer<typeof secretTaskSchema>;

/** The region a secret lives in, from its ARN. */
export const secretRegion = (secretArn: string): string => secretArn.split(":")[3]!;
