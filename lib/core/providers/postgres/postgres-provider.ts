// The postgres provider (CONTRACT §8.2): one login role per grant, `cb_<grantId>`, created with a SCRAM
// verifier the broker computes and ended by NOLOGIN → terminate its sessions → reassign and drop what it
// owns → DROP ROLE. Every ending is safe to repeat, and a role already gone counts as ended.
import {
  type DatabaseConfig,
  type PostgresTaskConfig,
  reachesDatabase,
} from "../../../config/postgres-schema.ts";
import type { Clock } from "../../clock.ts";
import { BrokerError, DependencyUnavailable } from "../../errors.ts";
import { type Grant, isFinal } from "../../grant.ts";
import { idTimeMs } from "../../ids.ts";
import type { Logger } from "../../logger.ts";
import {
  type CredentialProvider,
  ISSUED_TOKEN_TYPES,
  type LeftoverSweep,
  type PreparedCredential,
} from "../provider.ts";
import { groupRoleProblems } from "./group-roles.ts";
import {
  type PostgresAdmin,
  PostgresQueryError,
  type PostgresSession,
  PostgresUnreachable,
  UNDEFINED_OBJECT,
} from "./ports.ts";
import { grantIdOfRole, roleNameFor } from "./role-name.ts";
import { newPassword, scramSha256Verifier } from "./scram.ts";
import {
  brokerRolesStatement,
  createRoleStatement,
  endRoleStatements,
  groupRolesStatement,
  membershipsStatement,
  type SqlStatement,
} from "./sql.ts";

export interface PostgresProviderOptions {
  admin: PostgresAdmin;
  databases: readonly DatabaseConfig[];
  /** The current config's postgres tasks (grants of removed tasks end through what the grant recorded). */
  tasks: readonly PostgresTaskConfig[];
  clock: Clock;
  log: Logger;
  /**
   * The region this process runs in (CONTRACT §16): a database whose `regions` does not list it is out of
   * reach here — its tokens are refused and its grants' endings left to a region that reaches it.
   * @default - every database is reached (dev, one region)
   */
  region?: string;
  /** How long a verdict on a task's group roles holds before it is asked again (CONTRACT §8.2: 60 s). */
  recheckMs?: number;
  /** How many broker roles one sweep looks at per database for leftovers. */
  leftoverBatch?: number;
}

interface PostgresRequest {
  task: string;
  database: string;
  role: string;
  memberOf: string[];
  connectionLimit: number;
}

/** Roles younger than this may belong to a grant still being recorded or issued: never leftovers. */
const LEFTOVER_MIN_AGE_MS = 120_000;

/** libpq's sslmode for each `tls` setting, so that clients connect as the broker does. */
const SSLMODE: Record<DatabaseConfig["tls"], string> = {
  "verify-full": "verify-full",
  require: "require",
  disable: "disable",
};

interface Verdict {
  atMs: number;
  problems: { role: string; problem: string }[];
}

export function createPostgresProvider(options: PostgresProviderOptions): CredentialProvider {
  const { admin, clock, log } = options;
  const databases = new Map(options.databases.map((d) => [d.name, d]));
  const tasks = new Map(options.tasks.map((t) => [t.name, t]));
  const recheckMs = options.recheckMs ?? 60_000;
  const leftoverBatch = options.leftoverBatch ?? 50;
  const region = options.region;
  const reached = (database: string) => {
    const db = databases.get(database);
    return db !== undefined && reachesDatabase(db, region);
  };
  /** Only a database with `regions` is regional; the others every region reaches alike. */
  const regional = (database: string) =>
    region !== undefined && databases.get(database)?.regions !== undefined;
  const databaseOf = (grant: Grant) => grant.database ?? tasks.get(grant.task)?.database;
  const verdicts = new Map<string, Verdict>();
  const checking = new Map<string, Promise<Verdict>>();

  /** One check per task at a time, its verdict kept for recheckMs; an unreachable database is not a verdict. */
  async function verdictFor(request: PostgresRequest): Promise<Verdict> {
    const held = verdicts.get(request.task);
    if (held && clock.now() - held.atMs < recheckMs) return held;
    let pending = checking.get(request.task);
    if (!pending) {
      pending = (async () => {
        const rows = await run(request.database, (s) => s.query(groupRolesStatement(request.memberOf)));
        const verdict = { atMs: clock.now(), problems: groupRoleProblems(request.memberOf, rows) };
        verdicts.set(request.task, verdict);
        return verdict;
      })().finally(() => checking.delete(request.task));
      checking.set(request.task, pending);
    }
    return pending;
  }

  /** Runs on an admin session; driver failures become the broker's 503, with only a code as detail. */
  async function run<T>(database: string, fn: (s: PostgresSession) => Promise<T>): Promise<T> {
    try {
      return await admin.withSession(database, fn);
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  return {
    prepare({ task, grantId, durationSeconds }): PreparedCredential {
      const t = task as PostgresTaskConfig;
      const request: PostgresRequest = {
        task: t.name,
        database: t.database,
        role: roleNameFor(grantId),
        memberOf: [...t.memberOf],
        connectionLimit: t.connectionLimit,
      };
      return {
        provider: "postgres",
        durationSeconds,
        request,
        grantFields: { database: t.database, reassignTo: t.memberOf[0]! },
      };
    },

    async ready(prepared) {
      const request = prepared.request as PostgresRequest;
      // Refused before anything is recorded: this region could neither create the role nor drop it.
      if (!reached(request.database)) {
        log.error("postgres task refused: this region does not reach its database (databases[].regions)", {
          task: request.task,
          database: request.database,
          region,
          regions: databases.get(request.database)?.regions,
        });
        throw new DependencyUnavailable("PostgreSQL", "database not reached from this region");
      }
      const { problems } = await verdictFor(request);
      if (problems.length === 0) return;
      for (const p of problems)
        log.error("postgres group role refused: fix the role or the task's memberOf", {
          task: request.task,
          database: request.database,
          role: p.role,
          problem: p.problem,
        });
      throw new DependencyUnavailable("PostgreSQL group roles", `refused: ${problems[0]!.role}`);
    },

    async issue(prepared, grant) {
      const request = prepared.request as PostgresRequest;
      const db = databases.get(request.database);
      if (!db) throw new DependencyUnavailable("PostgreSQL", "database not configured");
      if (!reached(request.database))
        throw new DependencyUnavailable("PostgreSQL", "database not reached from this region");
      const password = newPassword();
      const statement = createRoleStatement({
        role: request.role,
        memberOf: request.memberOf,
        connectionLimit: request.connectionLimit,
        validUntil: grant.expiresAt,
        verifier: scramSha256Verifier(password),
      });
      await run(request.database, (s) => s.query(statement));
      return {
        accessToken: password,
        issuedTokenType: ISSUED_TOKEN_TYPES.postgres,
        tokenType: "N_A",
        expiresAtMs: Date.parse(grant.expiresAt),
        response: {
          postgres: {
            host: db.host,
            port: db.port,
            database: db.database,
            username: request.role,
            password,
            sslmode: SSLMODE[db.tls],
          },
        },
      };
    },

    async revoke(grant) {
      const task = tasks.get(grant.task);
      const database = grant.database ?? task?.database;
      if (!database || !databases.has(database))
        throw new DependencyUnavailable("PostgreSQL", "the grant's database is no longer configured");
      // The sweep asks regionalReach first; this keeps a direct caller from connecting where it must not.
      if (!reached(database))
        throw new DependencyUnavailable("PostgreSQL", "database not reached from this region");
      const role = roleNameFor(grant.grantId);
      await run(database, (s) => endRole(s, role, grant.reassignTo ?? task?.memberOf[0]));
      return undefined;
    },

    regionalReach(grant) {
      const database = databaseOf(grant);
      if (!database || !regional(database)) return undefined;
      return reached(database) ? "reached" : "unreached";
    },

    async sweepLeftovers(grantOf, nowMs): Promise<LeftoverSweep> {
      const result: LeftoverSweep = { dropped: 0, errors: 0 };
      for (const database of databases.keys()) {
        if (!reached(database)) continue; // a region that reaches it looks there
        try {
          await admin.withSession(database, async (s) => {
            for (const row of await s.query(brokerRolesStatement(leftoverBatch))) {
              const role = String(row["rolname"]);
              const grantId = grantIdOfRole(role);
              if (!grantId || (idTimeMs(grantId) ?? nowMs) > nowMs - LEFTOVER_MIN_AGE_MS) continue;
              const grant = await grantOf(grantId);
              // A live grant owns it; a pending revocation is the due index's to finish.
              if (grant && (!isFinal(grant.status) || grant.revocationPending)) continue;
              await endRole(s, role, grant?.reassignTo);
              result.dropped++;
              log.warn("postgres role no live grant owns was dropped", {
                database,
                role,
                grantId,
                grantStatus: grant?.status ?? "unknown",
              });
            }
          });
        } catch (err) {
          result.errors++;
          log.warn("postgres leftover roles not swept; the next sweep retries", {
            database,
            error: (err as Error).name,
            detail: asUnavailable(err).detail,
          });
        }
      }
      return result;
    },
  };
}

/**
 * Ends a role; a role that is not there (never created, or ended by a rival) is ended. Sessions are
 * terminated after NOLOGIN, so none can come back, and again before DROP ROLE for one that slipped in.
 * Objects it owns go to `reassignTo` (the task's first group role), or for a leftover whose grant is gone,
 * to one of its groups, else to the broker's admin: data is never dropped with the role.
 */
export async function endRole(
  s: PostgresSession,
  role: string,
  reassignTo: string | undefined,
): Promise<void> {
  const q = (statement: SqlStatement) => s.query(statement);
  try {
    await q(endRoleStatements.noLogin(role));
    await q(endRoleStatements.joinRole(role));
    await terminateSessions(s, role);
    const heir = reassignTo ?? (await q(membershipsStatement(role)))[0]?.["rolname"];
    await q(endRoleStatements.reassignOwned(role, typeof heir === "string" ? heir : undefined));
    await q(endRoleStatements.dropOwned(role));
    await terminateSessions(s, role);
    await q(endRoleStatements.dropRole(role));
  } catch (err) {
    if (err instanceof PostgresQueryError && err.code === UNDEFINED_OBJECT) return;
    throw err;
  }
}

async function terminateSessions(s: PostgresSession, role: string): Promise<void> {
  await s.query(endRoleStatements.terminate(role));
  const [left] = await s.query(endRoleStatements.sessions(role));
  if (Number(left?.["sessions"] ?? 0) > 0) throw new SessionsSurvived(role);
}

/** pg_terminate_backend did not end every session in time: the revocation stays pending and is retried. */
export class SessionsSurvived extends Error {
  constructor(readonly role: string) {
    super(`sessions of ${role} survived termination`);
    this.name = "SessionsSurvived";
  }
}

function asUnavailable(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof PostgresQueryError)
    return new DependencyUnavailable("PostgreSQL", `SQLSTATE ${err.code}`);
  if (err instanceof PostgresUnreachable) return new DependencyUnavailable("PostgreSQL", err.detail);
  return new DependencyUnavailable("PostgreSQL", (err as Error)?.name ?? "unknown");
}
