// The postgres provider of a process, built when the config names databases: pools and the admin secret
// are reached only when a grant needs them. Secrets Manager's endpoint comes from the SDK's environment
// (AWS_ENDPOINT_URL_SECRETS_MANAGER), so tests point it at a loopback fixture.
import type { PostgresTaskConfig } from "../config/postgres-schema.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { Provider } from "../core/grant.ts";
import { type Logger, silentLogger } from "../core/logger.ts";
import { createPostgresProvider } from "../core/providers/postgres/postgres-provider.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import { PgAdmin, type PgAdminOptions } from "../postgres/pg-admin.ts";
import { secretsManagerClients } from "./secrets-manager-clients.ts";

export interface PostgresProviderOptions {
  env?: NodeJS.ProcessEnv;
  log?: Logger;
  clock?: Clock;
  /**
   * The region this process runs in: databases whose `regions` leave it out are not reached here. A Lambda
   * passes its AWS_REGION; dev and the CLI pass none, and reach every database.
   */
  region?: string;
  /** Pool and backoff settings (tests shorten the backoff). */
  admin?: Partial<Pick<PgAdminOptions, "backoffMs" | "maxBackoffMs" | "connectTimeoutMs" | "poolSize">>;
  /** Receives the admin so a caller can close its pools. */
  onAdmin?: (admin: PgAdmin) => void;
}

export function postgresProviders(
  resolved: ResolvedConfig,
  options: PostgresProviderOptions = {},
): Partial<Record<Provider, CredentialProvider>> {
  const { databases, tasks } = resolved.config;
  if (databases.length === 0) return {};
  const env = options.env ?? process.env;
  const log = options.log ?? silentLogger;
  const admin = new PgAdmin({
    databases,
    env,
    log,
    ...options.admin,
    secrets: secretsManagerClients(env),
  });
  options.onAdmin?.(admin);
  return {
    postgres: createPostgresProvider({
      admin,
      databases,
      tasks: tasks.filter((t): t is PostgresTaskConfig => t.provider === "postgres"),
      clock: options.clock ?? systemClock,
      log,
      ...(options.region ? { region: options.region } : {}),
    }),
  };
}
