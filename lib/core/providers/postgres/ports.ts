// What the postgres provider needs from the outside: admin sessions on the configured databases. The
// adapter (lib/postgres/) owns pools, TLS and the admin credential, and translates driver errors into
// the two classes below, so the core can tell "the role is not there" from "the database is not there".
import type { SqlStatement } from "./sql.ts";

export type Row = Record<string, unknown>;

export interface PostgresSession {
  query(statement: SqlStatement): Promise<Row[]>;
}

export interface PostgresAdmin {
  /** Runs `fn` on one admin connection to the named database (a databases[].name), then releases it. */
  withSession<T>(database: string, fn: (session: PostgresSession) => Promise<T>): Promise<T>;
}

/** The server answered with an error (SQLSTATE `code`): the database is reachable. */
export class PostgresQueryError extends Error {
  constructor(
    readonly code: string,
    readonly database: string,
  ) {
    super(`PostgreSQL error ${code} on ${database}`);
    this.name = "PostgresQueryError";
  }
}

/** No answer: connect or TLS failure, a timeout, the admin secret unreadable, a backoff after failures. */
export class PostgresUnreachable extends Error {
  constructor(
    readonly database: string,
    readonly detail: string,
  ) {
    super(`PostgreSQL database ${database} is unreachable (${detail})`);
    this.name = "PostgresUnreachable";
  }
}

/** SQLSTATE 42704 undefined_object: e.g. ALTER ROLE on a role that does not exist. */
export const UNDEFINED_OBJECT = "42704";
