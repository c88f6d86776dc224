// Admin sessions on the configured databases through node-postgres: a small pool per database, connect,
// statement and query timeouts (a Lambda must answer inside API Gateway's 30 s), TLS as configured, and a
// backoff after a database stops answering, so that a sweep with many pending revocations on a dead
// database makes one attempt per backoff period instead of one connection per grant.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type pg from "pg";
import type { DatabaseConfig } from "../config/postgres-schema.ts";
import type { Logger } from "../core/logger.ts";
import {
  type PostgresAdmin,
  PostgresQueryError,
  type PostgresSession,
  PostgresUnreachable,
} from "../core/providers/postgres/ports.ts";
import { AdminCredentialUnavailable, readAdminCredential } from "./admin-credential.ts";

// Loaded on first use: node-postgres touches the global `Response` while it loads, which makes Node load its
// fetch implementation (undici), about 25 ms of a cold start that a function issuing only AWS or GitHub
// credentials would pay for nothing.
let pgModule: Promise<typeof pg> | undefined;
const loadPg = (): Promise<typeof pg> => (pgModule ??= import("pg").then((m) => m.default));

export interface PgAdminOptions {
  databases: readonly DatabaseConfig[];
  /** A Secrets Manager client for a region. */
  secrets: (region: string) => SecretsManagerClient;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Connections per database and process. @default 3 */
  poolSize?: number;
  /** @default 3000 */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout; longer than pg_terminate_backend's wait. @default 10000 */
  statementTimeoutMs?: number;
  /** First wait after a failure, doubled per further failure up to maxBackoffMs. @default 1000 */
  backoffMs?: number;
  /** @default 30000 */
  maxBackoffMs?: number;
  now?: () => number;
}

interface Backoff {
  failures: number;
  untilMs: number;
}

/** SQLSTATE classes that mean the connection, not the statement, failed. */
const CONNECTION_STATES = /^(08|57P0[1-3]|53300|28)/;

export function tlsOption(db: DatabaseConfig): pg.ClientConfig["ssl"] {
  // verify-full: the server's chain must reach a trusted CA (Node's roots plus NODE_EXTRA_CA_CERTS, where
  // the RDS bundle goes) and its certificate must name the configured host (Node checks it by default).
  // node-postgres passes the host as the TLS server name (an IP address is checked against the IP SANs).
  if (db.tls === "verify-full") return { rejectUnauthorized: true };
  if (db.tls === "require") return { rejectUnauthorized: false };
  return false;
}

export class PgAdmin implements PostgresAdmin {
  private readonly databases: Map<string, DatabaseConfig>;
  private readonly pools = new Map<string, Promise<pg.Pool>>();
  private readonly backoff = new Map<string, Backoff>();
  private readonly now: () => number;

  constructor(private readonly options: PgAdminOptions) {
    this.databases = new Map(options.databases.map((d) => [d.name, d]));
    this.now = options.now ?? Date.now;
  }

  async withSession<T>(database: string, fn: (session: PostgresSession) => Promise<T>): Promise<T> {
    const wait = this.backoff.get(database);
    if (wait && this.now() < wait.untilMs)
      throw new PostgresUnreachable(database, "backing off after failures");
    let client: pg.PoolClient;
    try {
      client = await (await this.pool(database)).connect();
    } catch (err) {
      throw this.failed(database, err, true);
    }
    this.backoff.delete(database);
    let broken = false;
    try {
      const session: PostgresSession = {
        query: async (statement) => {
          try {
            return (await client.query(statement.text, statement.values)).rows;
          } catch (err) {
            const translated = this.failed(database, err, false);
            if (translated instanceof PostgresUnreachable) broken = true;
            throw translated;
          }
        },
      };
      return await fn(session);
    } finally {
      // A connection that failed mid-use is discarded rather than handed to the next caller.
      client.release(broken);
    }
  }

  /** Ends every pool (tests, and CLI commands that want to exit at once). */
  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map(async (p) => (await p.catch(() => undefined))?.end()));
  }

  private pool(database: string): Promise<pg.Pool> {
    let pool = this.pools.get(database);
    if (!pool) {
      const db = this.databases.get(database);
      if (!db) return Promise.reject(new PostgresUnreachable(database, "not configured"));
      pool = this.makePool(db);
      // A credential that could not be read is asked for again next time.
      const made = pool;
      made.catch(() => {
        if (this.pools.get(database) === made) this.pools.delete(database);
      });
      this.pools.set(database, pool);
    }
    return pool;
  }

  private async makePool(db: DatabaseConfig): Promise<pg.Pool> {
    const { user, password } = await readAdminCredential(db, this.options);
    const statementTimeout = this.options.statementTimeoutMs ?? 10_000;
    const { Pool } = await loadPg();
    const pool = new Pool({
      host: db.host,
      port: db.port,
      database: db.database,
      user,
      password,
      ssl: tlsOption(db),
      max: this.options.poolSize ?? 3,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 3_000,
      statement_timeout: statementTimeout,
      lock_timeout: 5_000,
      // The client-side bound in case the server never answers (a dead peer keeps no statement timer).
      query_timeout: statementTimeout + 2_000,
      idleTimeoutMillis: 10_000,
      allowExitOnIdle: true,
      application_name: "credbroker",
    });
    // An idle connection the server drops emits here; without a listener it would crash the process.
    pool.on("error", (err) =>
      this.options.log.warn("postgres idle connection lost", { database: db.name, error: err.name }),
    );
    return pool;
  }

  /** Translates a driver error, and starts or lengthens the backoff when the database did not answer. */
  private failed(database: string, err: unknown, connecting: boolean): Error {
    const code = (err as { code?: unknown }).code;
    const sqlState = typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
    if (sqlState && !(connecting || CONNECTION_STATES.test(sqlState)))
      return new PostgresQueryError(sqlState, database);
    // A refused login may be a rotated secret: read it again next time.
    if (sqlState === "28P01" || sqlState === "28000" || err instanceof AdminCredentialUnavailable) {
      const pool = this.pools.get(database);
      this.pools.delete(database);
      void pool?.then((p) => p.end()).catch(() => undefined);
    }
    const failures = (this.backoff.get(database)?.failures ?? 0) + 1;
    const base = this.options.backoffMs ?? 1_000;
    const wait = Math.min(this.options.maxBackoffMs ?? 30_000, base * 2 ** (failures - 1));
    this.backoff.set(database, { failures, untilMs: this.now() + wait });
    const detail =
      err instanceof AdminCredentialUnavailable
        ? err.detail
        : sqlState
          ? `SQLSTATE ${sqlState}`
          : String(code ?? (err as Error)?.name ?? "unknown");
    return new PostgresUnreachable(database, detail);
  }
}
