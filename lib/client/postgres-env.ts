// The libpq environment of a postgres answer (CONTRACT §8.2): with these set, psql, pg_dump and every libpq
// tool (and node-postgres) connect without a connection string. Erasable TypeScript only (the Action runs it).
import type { PostgresCredentials } from "./broker-client.ts";

/** PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD and PGSSLMODE, in that order. */
export function postgresEnvironment(p: PostgresCredentials): [string, string][] {
  return [
    ["PGHOST", p.host],
    ["PGPORT", String(p.port)],
    ["PGDATABASE", p.database],
    ["PGUSER", p.username],
    ["PGPASSWORD", p.password],
    ["PGSSLMODE", p.sslmode],
  ];
}
