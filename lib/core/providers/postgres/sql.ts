// The statements the provider sends. CREATE ROLE and friends take no bind parameters, so identifiers are
// quoted as identifiers and the few literals (a timestamp, a SCRAM verifier) are checked against their own
// shape and quoted: nothing from a request is ever spliced in as text.

export interface SqlStatement {
  text: string;
  values?: unknown[];
}

/** A double-quoted identifier (PostgreSQL's quote_ident): embedded quotes doubled; NUL refused. */
export function quoteIdent(name: string): string {
  if (name.length === 0 || name.includes("\0")) throw new TypeError("not a valid identifier");
  return `"${name.replaceAll('"', '""')}"`;
}

const VERIFIER = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** A literal whose shape is known; anything else is a programming error, not something to escape. */
function literal(value: string, shape: RegExp): string {
  if (!shape.test(value)) throw new TypeError("literal of unexpected shape");
  return `'${value}'`;
}

export interface CreateRoleInput {
  role: string;
  memberOf: readonly string[];
  connectionLimit: number;
  /** ISO 8601 UTC, seconds precision (the grant's expiry). */
  validUntil: string;
  verifier: string;
}

/** CONTRACT §8.2's CREATE ROLE, exactly: a login role with no powers of its own beyond its groups'. */
export function createRoleStatement(input: CreateRoleInput): SqlStatement {
  if (!Number.isInteger(input.connectionLimit) || input.connectionLimit < 1)
    throw new TypeError("connection limit must be a positive integer");
  if (input.memberOf.length === 0) throw new TypeError("a role must join at least one group");
  return {
    text:
      `CREATE ROLE ${quoteIdent(input.role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION ` +
      `NOBYPASSRLS INHERIT CONNECTION LIMIT ${input.connectionLimit} ` +
      `VALID UNTIL ${literal(input.validUntil, TIMESTAMP)} PASSWORD ${literal(input.verifier, VERIFIER)} ` +
      `IN ROLE ${input.memberOf.map(quoteIdent).join(", ")}`,
  };
}

/** How long pg_terminate_backend waits for each backend to exit, so that "ended" means gone. */
export const TERMINATE_WAIT_MS = 5_000;

/** The steps of ending a role (CONTRACT §8.2), in order; each is safe to run again. */
export const endRoleStatements = {
  noLogin: (role: string): SqlStatement => ({ text: `ALTER ROLE ${quoteIdent(role)} NOLOGIN` }),
  // A non-superuser may only signal the backends of a role whose privileges it has.
  joinRole: (role: string): SqlStatement => ({ text: `GRANT ${quoteIdent(role)} TO CURRENT_USER` }),
  // The materialized CTE fixes the rows first: a WHERE clause alone does not promise to test usename
  // before calling pg_terminate_backend, which must never reach another role's session.
  terminate: (role: string): SqlStatement => ({
    text:
      "WITH s AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()) " +
      `SELECT count(pg_terminate_backend(pid, ${TERMINATE_WAIT_MS}))::int AS signalled FROM s`,
    values: [role],
  }),
  sessions: (role: string): SqlStatement => ({
    text: "SELECT count(*)::int AS sessions FROM pg_stat_activity WHERE usename = $1",
    values: [role],
  }),
  reassignOwned: (role: string, to: string | undefined): SqlStatement => ({
    text: `REASSIGN OWNED BY ${quoteIdent(role)} TO ${to === undefined ? "CURRENT_USER" : quoteIdent(to)}`,
  }),
  dropOwned: (role: string): SqlStatement => ({ text: `DROP OWNED BY ${quoteIdent(role)}` }),
  dropRole: (role: string): SqlStatement => ({ text: `DROP ROLE ${quoteIdent(role)}` }),
};

/**
 * Each named group role and every role it belongs to, directly or through others, with the attributes
 * that would hand a temporary user more than the group's own privileges.
 */
export const groupRolesStatement = (roles: readonly string[]): SqlStatement => ({
  text: `WITH RECURSIVE up(start, oid) AS (
  SELECT r.rolname::text, r.oid FROM pg_roles r WHERE r.rolname = ANY($1::text[])
  UNION
  SELECT up.start, m.roleid FROM up JOIN pg_auth_members m ON m.member = up.oid
)
SELECT up.start, a.rolname::text AS rolname, a.rolsuper, a.rolcreaterole, a.rolcreatedb, a.rolreplication,
  a.rolbypassrls
FROM up JOIN pg_roles a ON a.oid = up.oid`,
  values: [roles],
});

/** Broker roles, those whose password expired longest ago first, so that leftovers are reached first. */
export const brokerRolesStatement = (limit: number): SqlStatement => ({
  text:
    "SELECT rolname::text AS rolname FROM pg_roles WHERE rolname LIKE 'cb\\_%' " +
    "ORDER BY rolvaliduntil ASC NULLS FIRST, rolname LIMIT $1",
  values: [limit],
});

/** The group roles a broker role belongs to (by name: pg_auth_members has no order before PostgreSQL 16). */
export const membershipsStatement = (role: string): SqlStatement => ({
  text:
    "SELECT g.rolname::text AS rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid " +
    "JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = $1 AND g.rolname <> current_user ORDER BY g.rolname",
  values: [role],
});
