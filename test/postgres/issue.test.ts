// Issuing PostgreSQL users against a real server: the response, logging in with pg and psql, the role's
// exact shape, the statement log, and group roles that must be refused before anything is recorded.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { sharedDynamo } from "../support/broker.ts";
import { postgresUnavailable } from "../support/postgres.ts";
import { usePgRig } from "./support.ts";

const unavailable = postgresUnavailable();
if (unavailable) console.warn(`skipping PostgreSQL tests: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("postgres provider: issuing", () => {
  const rig = usePgRig();

  it("answers with postgres credentials that log in with pg and read what the group may read", async () => {
    const { status, body } = await rig.issue("read-reports-db");
    expect(status).toBe(200);
    const grantId = body["grant_id"] as string;
    expect(body).toMatchObject({
      issued_token_type: "urn:credbroker:token-type:postgres-credentials",
      token_type: "N_A",
      scope: "read-reports-db",
      expires_in: 3600,
      postgres: {
        host: "127.0.0.1",
        port: rig.cluster.port,
        database: "reports",
        username: `cb_${grantId}`,
        sslmode: "disable",
      },
    });
    const password = (body["postgres"] as Record<string, string>)["password"]!;
    expect(body["access_token"]).toBe(password);
    expect(Buffer.from(password, "base64url").length).toBeGreaterThanOrEqual(32);
    const client = await rig.login(body);
    const rows = (await client.query("SELECT body FROM report WHERE id = 1")).rows;
    expect(rows).toEqual([{ body: "q3 revenue" }]);
    await expect(client.query("INSERT INTO report VALUES (2, 'x')")).rejects.toThrow(/permission denied/);
    expect(await rig.broker.store.getGrant(grantId)).toMatchObject({
      status: "active",
      database: "reports-db",
    });
  });

  it("logs in with psql through the libpq variables of the response", async () => {
    const { body } = await rig.issue("read-reports-db");
    const p = body["postgres"] as Record<string, string | number>;
    const out = execFileSync(
      join(rig.cluster.bin, "psql"),
      ["-tAc", "SELECT current_user || ' ' || count(*) FROM report"],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          PGHOST: String(p["host"]),
          PGPORT: String(p["port"]),
          PGDATABASE: String(p["database"]),
          PGUSER: String(p["username"]),
          PGPASSWORD: String(p["password"]),
          PGSSLMODE: String(p["sslmode"]),
          PGCONNECT_TIMEOUT: "5",
        },
        encoding: "utf8",
      },
    );
    expect(out.trim()).toBe(`${p["username"]} 1`);
  });

  it("creates the role with no power of its own, its groups, the grant's expiry and the connection limit", async () => {
    const { body } = await rig.issue("write-reports-db", { duration_seconds: "600" });
    const role = (body["postgres"] as Record<string, string>)["username"]!;
    const [attrs] = await rig.cluster.sql(
      `SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit,
              rolconnlimit, to_char(rolvaliduntil AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS valid_until
       FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    expect(attrs).toEqual({
      rolcanlogin: true,
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
      rolinherit: true,
      rolconnlimit: 5,
      valid_until: body["expires_at"],
    });
    const groups = await rig.cluster.sql(
      `SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
       WHERE r.rolname = $1 ORDER BY 1`,
      [role],
    );
    expect(groups.map((g) => g["rolname"])).toEqual(["reporting_read", "reporting_write"]);
    const [stored] = await rig.cluster.sql("SELECT rolpassword FROM pg_authid WHERE rolname = $1", [role]);
    expect(String(stored!["rolpassword"])).toMatch(
      /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/,
    );
  });

  it("refuses a login beyond the role's connection limit", async () => {
    const { body } = await rig.issue("read-reports-db");
    await rig.login(body);
    await rig.login(body);
    await expect(rig.login(body)).rejects.toThrow(/too many connections for role/);
  });

  it("refuses a wrong password for the role (the verifier is the password's, not any)", async () => {
    const { body } = await rig.issue("read-reports-db");
    const p = body["postgres"] as Record<string, string>;
    await expect(rig.login({ postgres: { ...p, password: `${p["password"]}x` } })).rejects.toThrow(
      /password authentication failed/,
    );
  });

  it("never sends the password to the server: the statement log has the verifier only", async () => {
    const { body } = await rig.issue("read-reports-db");
    const password = (body["postgres"] as Record<string, string>)["password"]!;
    const log = rig.cluster.log();
    expect(log).toContain(`CREATE ROLE "cb_${body["grant_id"]}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
    expect(log).toContain("PASSWORD 'SCRAM-SHA-256$4096:");
    expect(log).not.toContain(password);
  });

  it("keeps the password out of DynamoDB, the audit trail and the logs", async () => {
    const { body } = await rig.issue("read-reports-db");
    const password = (body["postgres"] as Record<string, string>)["password"]!;
    await rig.broker.call("revoke", {
      token: body["grant_id"] as string,
      subject_token: await rig.token(),
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    const { client } = await sharedDynamo();
    const items = JSON.stringify(
      (await client.send(new ScanCommand({ TableName: rig.broker.store["table"] as string }))).Items,
    );
    expect(items).toContain(body["grant_id"] as string);
    expect(items).not.toContain(password);
    expect(rig.broker.logs.join("\n")).not.toContain(password);
  });

  it("checks the group roles again once the last check is 60 s old", async () => {
    expect((await rig.issue("read-reports-db")).status).toBe(200);
    await rig.cluster.sql("ALTER ROLE reporting_read CREATEDB");
    try {
      // Within 60 s of the last check the verdict holds; after that the new power is seen and refused.
      rig.broker.clock.advance(30_000);
      expect((await rig.issue("read-reports-db")).status).toBe(200);
      rig.broker.clock.advance(31_000);
      const { status } = await rig.issue("read-reports-db");
      expect(status).toBe(503);
      expect(rig.broker.logs.join("\n")).toContain('"role":"reporting_read","problem":"has CREATEDB"');
    } finally {
      await rig.cluster.sql("ALTER ROLE reporting_read NOCREATEDB");
      rig.broker.clock.advance(61_000);
    }
    expect((await rig.issue("read-reports-db")).status).toBe(200);
  });

  it.each([
    ["via-createrole", "ops_admins", "has CREATEROLE"],
    ["via-nested-superuser", "nested_group", "has SUPERUSER through its membership of root_group"],
    ["via-builtin", "file_readers", "is a member of the built-in role pg_read_server_files"],
    ["via-missing", "no_such_group", "does not exist"],
  ])(
    "refuses %s with 503 and an error naming %s, before any grant or role exists",
    async (task, role, problem) => {
      const rolesBefore = await rig.roles();
      const logsBefore = rig.broker.logs.length;
      const { status, body } = await rig.issue(task);
      expect(status).toBe(503);
      expect(body["error"]).toBe("temporarily_unavailable");
      const errors = rig.broker.logs.slice(logsBefore).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(errors).toContainEqual(expect.objectContaining({ level: "error", task, role, problem }));
      expect(await rig.roles()).toEqual(rolesBefore);
      const grants = (await rig.broker.store.listGrants()).items.filter((g) => g.task === task);
      expect(grants).toEqual([]);
    },
  );
});
