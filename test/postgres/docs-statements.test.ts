// docs/postgres.md's SQL runs as pasted: the walk-through's statements (and the one of its two version
// alternatives that fits the server), then a broker-style login in the group reads the table it made.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";

const unavailable = postgresUnavailable();
const doc = readFileSync("docs/postgres.md", "utf8");

/** The ```sql blocks of the section that starts with `heading`. */
function sqlBlocks(heading: string): string[] {
  const start = doc.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/postgres.md has no section ${heading}`);
  const end = doc.indexOf("\n## ", start + 1);
  const section = doc.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

describe.skipIf(unavailable !== undefined)("docs/postgres.md's statements", () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
  }, 120_000);
  afterAll(() => cluster?.destroy());

  /** psql as the superuser, as a user pastes: stops at the first error. */
  const psql = (sql: string, database: string) =>
    execFileSync(
      join(cluster.bin, "psql"),
      ["-v", "ON_ERROR_STOP=1", "-X", "-q", cluster.superuserUrl.replace(/\/postgres$/, `/${database}`)],
      { input: sql, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] },
    );
  const versionBlock = async (blocks: string[]) => {
    const [row] = await cluster.sql<{ server_version_num: string }>("SHOW server_version_num");
    const sixteen = Number(row?.server_version_num) >= 160000;
    const chosen = blocks.find((b) =>
      b.includes(sixteen ? "PostgreSQL 16 and later" : "PostgreSQL 15 and earlier"),
    );
    expect(chosen).toBeDefined();
    return chosen!;
  };

  it("the operator's statements run as pasted on a server with the reports database", async () => {
    const blocks = sqlBlocks("What an operator creates once");
    expect(blocks).toHaveLength(3);
    await cluster.sql("CREATE DATABASE reports");
    psql(blocks[0]!, "reports");
    psql(await versionBlock(blocks), "reports");
    const roles = await cluster.sql(
      "SELECT rolname FROM pg_roles WHERE rolname IN ('credbroker_admin', 'reporting_read')",
    );
    expect(roles).toHaveLength(2);
    // Cleared for the walk-through, which makes them again from nothing.
    await cluster.sql("DROP DATABASE reports");
    await cluster.sql("DROP ROLE reporting_read");
    await cluster.sql("DROP ROLE credbroker_admin");
  });

  it("the walk-through's statements make the database, the table and the roles a grant's user reads with", async () => {
    const blocks = sqlBlocks("Try it on your machine");
    expect(blocks).toHaveLength(3);
    psql(blocks[0]!, "postgres");
    psql(await versionBlock(blocks), "reports");

    // What the broker does for a grant, as credbroker_admin: a login in the group reads the table.
    const admin = new pg.Client({
      host: cluster.host,
      port: cluster.port,
      database: "reports",
      user: "credbroker_admin",
      password: "dev-only-password",
    });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE cb_docs LOGIN PASSWORD 'docs-user-password' IN ROLE reporting_read`);
    } finally {
      await admin.end();
    }
    const user = { host: cluster.host, port: cluster.port, user: "cb_docs", password: "docs-user-password" };
    const reader = new pg.Client({ ...user, database: "reports" });
    await reader.connect();
    try {
      expect((await reader.query("select count(*)::int as n from report")).rows).toEqual([{ n: 2 }]);
    } finally {
      await reader.end();
    }
    // The other databases no longer let PUBLIC connect.
    const elsewhere = new pg.Client({ ...user, database: "postgres" });
    await expect(elsewhere.connect()).rejects.toThrow(/permission denied for database/);
  });
});
