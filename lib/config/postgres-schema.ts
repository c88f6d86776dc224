// The `databases` and `postgres` task entries of CONTRACT §8.2, kept beside the main schema so each
// provider's config reads on its own. Cross-references (a task naming a database) are checked in schema.ts.
import { z } from "zod";
import { taskApprovalSchema } from "./approval-schema.ts";
import { replacesSchema } from "./replaces-schema.ts";

const name = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, "must be 1-64 letters, digits, '_', '.' or '-'");

/** An AWS region name (us-east-1, us-gov-west-1). */
export const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** A Secrets Manager secret ARN, in any partition. */
export const SECRET_ARN_PATTERN =
  /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]{1,512}$/;

export const databaseSchema = z
  .object({
    name,
    host: z
      .string()
      .regex(
        /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[?[0-9a-fA-F:]+\]?$/,
        "must be a host name or IP address",
      ),
    port: z.number().int().min(1).max(65_535).default(5432),
    database: z.string().min(1).max(63),
    // verify-full checks the server's certificate and host name; require only encrypts; disable is for dev.
    tls: z.enum(["verify-full", "require", "disable"]).default("verify-full"),
    admin: z
      .object({
        secretArn: z.string().regex(SECRET_ARN_PATTERN, "must be a Secrets Manager secret ARN").optional(),
        urlEnv: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be an environment variable name")
          .optional(),
      })
      .strict()
      .refine((a) => (a.secretArn === undefined) !== (a.urlEnv === undefined), {
        message: "give exactly one of secretArn or urlEnv",
      }),
    // The broker regions whose functions reach the database (CONTRACT §16); absent, every region does.
    // Only those issue its grants and end them; elsewhere an ending is left pending for them.
    regions: z
      .array(z.string().regex(REGION_PATTERN, "must be an AWS region name, such as us-east-1"))
      .min(1, "must name at least one region (leave it out for every region)")
      .refine((r) => new Set(r).size === r.length, "must not repeat a region")
      .optional(),
  })
  .strict();

/** Whether a process in `region` reaches the database; `undefined` (dev, one region): every database. */
export const reachesDatabase = (db: DatabaseConfig, region: string | undefined): boolean =>
  region === undefined || db.regions === undefined || db.regions.includes(region);

// Built-in pg_* roles carry server-level powers (pg_execute_server_program, pg_read_server_files) without any
// role attribute; cb_* are the broker's own per-grant roles; PUBLIC is every role.
const groupRole = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, "must be a PostgreSQL role name (1-63 characters)")
  .refine((r) => !/^pg_/i.test(r), "may not be a built-in pg_* role")
  .refine((r) => !/^cb_/i.test(r), "may not be one of the broker's own cb_* roles")
  .refine((r) => r.toLowerCase() !== "public", "may not be PUBLIC");

export const postgresTaskSchema = z
  .object({
    name,
    provider: z.literal("postgres"),
    database: name,
    memberOf: z
      .array(groupRole)
      .min(1, "must name at least one group role")
      .max(10, "at most 10 group roles")
      .refine((roles) => new Set(roles).size === roles.length, "must not repeat a role"),
    connectionLimit: z.number().int().min(1).max(100).default(2),
    maxDurationSeconds: z.number().int().min(300).max(43_200).default(3600),
    sensitivity: z.enum(["low", "medium", "high", "critical"]).default("medium"),
    approval: taskApprovalSchema.optional(),
    replaces: replacesSchema,
  })
  .strict();

export type DatabaseConfig = z.infer<typeof databaseSchema>;
export type PostgresTaskConfig = z.infer<typeof postgresTaskSchema>;

/** What `cdk synth` refuses on AWS: an unencrypted connection, an admin URL in the environment. */
export function postgresDeployProblems(databases: readonly DatabaseConfig[]): string[] {
  const problems: string[] = [];
  databases.forEach((db, i) => {
    if (db.tls === "disable")
      problems.push(`databases.${i}.tls: disable is for dev and tests only; use verify-full or require`);
    if (db.admin.urlEnv !== undefined)
      problems.push(`databases.${i}.admin.urlEnv: is for dev and tests only; use secretArn`);
  });
  return problems;
}
