// Every way a grant ends ends its PostgreSQL user: the live session is killed, the role is gone, and what
// the user created survives under the task's first group role instead of blocking the drop.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { grantsCommand } from "../../lib/cli/grants.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { changeSignals } from "../../lib/core/signals.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import type { PgAdmin } from "../../lib/postgres/pg-admin.ts";
import { postgresUnavailable } from "../support/postgres.ts";
import { createPgBroker, PG_POLICIES, usePgRig } from "./support.ts";

const unavailable = postgresUnavailable();

const io = (): CliIo => ({ out: () => {}, err: () => {}, env: { USER: "alice" } });

/** A CLI's output, kept. */
function captured() {
  const c = { stdout: "", stderr: "", io: io() };
  c.io = {
    ...c.io,
    out: (t) => {
      c.stdout += t;
    },
    err: (t) => {
      c.stderr += t;
    },
  };
  return c;
}

/** A session that is alive now: the query answers. */
async function alive(client: pg.Client): Promise<boolean> {
  try {
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(unavailable !== undefined)("postgres provider: ending a grant ends the user", () => {
  const rig = usePgRig();

  async function issueWithSession(task = "read-reports-db") {
    const { status, body } = await rig.issue(task);
    expect(status).toBe(200);
    const client = await rig.login(body);
    expect(await alive(client)).toBe(true);
    return { grantId: body["grant_id"] as string, role: `cb_${body["grant_id"]}`, client, body };
  }

  async function expectEnded(grantId: string, role: string, client: pg.Client, status: string) {
    expect(await alive(client)).toBe(false);
    expect(await rig.roles()).not.toContain(role);
    const sessions = await rig.cluster.sql("SELECT pid FROM pg_stat_activity WHERE usename = $1", [role]);
    expect(sessions).toEqual([]);
    const grant = await rig.broker.store.getGrant(grantId);
    expect(grant?.status).toBe(status);
    expect(grant?.revocationPending ?? false).toBe(false);
  }

  it("self-release (POST /revoke) kills the session and drops the role", async () => {
    const { grantId, role, client } = await issueWithSession();
    const res = await rig.broker.call("revoke", {
      token: grantId,
      subject_token: await rig.token(),
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(res.status).toBe(200);
    await expectEnded(grantId, role, client, "revoked");
  });

  it("an admin's `grants revoke` kills the session and drops the role, and prints one result line", async () => {
    const { grantId, role, client } = await issueWithSession();
    const out = captured();
    await grantsCommand(["revoke", grantId, "--reason", "incident 7"], out.io, async () => ({
      store: rig.broker.store,
      providers: rig.broker.deps.providers,
    }));
    expect(out.stdout).toBe(`revoked ${grantId}\n`);
    expect(out.stderr).toBe("");
    await expectEnded(grantId, role, client, "revoked");
  });

  it("an admin shell that cannot reach the database says the role's drop is pending, not an IAM revocation", async () => {
    const { grantId, role, client } = await issueWithSession();
    const out = captured();
    // No postgres provider: an admin shell without the database's admin login.
    await grantsCommand(["revoke", grantId, "--reason", "incident 8"], out.io, async () => ({
      store: rig.broker.store,
      providers: {},
    }));
    expect(out.stdout).toBe(
      `revoked ${grantId} (dropping its PostgreSQL role is pending; the sweep will retry it): this shell has no postgres provider (give --config or CREDBROKER_CONFIG)\n`,
    );
    expect(out.stdout).not.toContain("IAM");
    expect(out.stderr).toBe("");
    // The next sweep finishes it.
    rig.broker.clock.advance(60_000);
    await sweepDue(rig.broker.deps);
    await expectEnded(grantId, role, client, "revoked");
  });

  it("a signal that the policy denies kills the session and drops the role at once", async () => {
    const { grantId, role, client } = await issueWithSession();
    await changeSignals(rig.broker.deps, { workload: "web-ci", set: { quarantined: "true" } });
    try {
      await expectEnded(grantId, role, client, "revoked");
    } finally {
      await changeSignals(rig.broker.deps, { workload: "web-ci", clear: ["quarantined"] });
    }
  });

  it("a config change that denies the grant ends it at the next sweep", async () => {
    const { grantId, role, client } = await issueWithSession();
    let nextAdmin: PgAdmin | undefined;
    const next = await createPgBroker(rig.cluster, {
      issuer: rig.issuer,
      store: rig.broker.store,
      policies: `${PG_POLICIES}\n@id("databases-closed")\nforbid (principal, action, resource == Task::"read-reports-db");\n`,
      onAdmin: (a) => {
        nextAdmin = a;
      },
    });
    try {
      const summary = await sweepDue(next.deps);
      expect(summary.revoked).toBeGreaterThanOrEqual(1);
      await expectEnded(grantId, role, client, "revoked");
      const grant = await rig.broker.store.getGrant(grantId);
      expect(grant?.policyIds).toContain("databases-closed");
    } finally {
      // Let the first broker's config be the applied one again for the tests after this.
      await sweepDue(rig.broker.deps);
      await nextAdmin?.close();
    }
  });

  it("expiry kills the session and drops the role: `expired` means ended, not lapsed", async () => {
    const { grantId, role, client } = await issueWithSession();
    rig.broker.clock.advance(3601_000);
    const summary = await sweepDue(rig.broker.deps);
    expect(summary).toMatchObject({ expired: expect.any(Number), errors: 0 });
    await expectEnded(grantId, role, client, "expired");
  });

  it("objects the temporary user created do not block the drop and pass to the task's first group", async () => {
    const { grantId, role, client } = await issueWithSession("write-reports-db");
    await client.query("CREATE TABLE scratch_results (n int)");
    await client.query("INSERT INTO scratch_results VALUES (42)");
    await client.query("CREATE VIEW scratch_view AS SELECT n FROM scratch_results");
    await rig.broker.call("revoke", {
      token: grantId,
      subject_token: await rig.token(),
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    await expectEnded(grantId, role, client, "revoked");
    const owners = await rig.cluster.sql(
      "SELECT c.relname, pg_get_userbyid(c.relowner) AS owner FROM pg_class c WHERE c.relname LIKE 'scratch\\_%' ORDER BY 1",
      [],
      "reports",
    );
    expect(owners).toEqual([
      { relname: "scratch_results", owner: "reporting_write" },
      { relname: "scratch_view", owner: "reporting_write" },
    ]);
    expect(await rig.cluster.sql("SELECT n FROM scratch_results", [], "reports")).toEqual([{ n: 42 }]);
  });

  it("ending a grant whose role is already gone counts as done", async () => {
    const { grantId, role, client } = await issueWithSession();
    await client.end();
    await rig.cluster.sql(`DROP ROLE "${role}"`);
    await grantsCommand(["revoke", grantId, "--reason", "cleanup"], io(), async () => ({
      store: rig.broker.store,
      providers: rig.broker.deps.providers,
    }));
    const grant = await rig.broker.store.getGrant(grantId);
    expect(grant).toMatchObject({ status: "revoked" });
    expect(grant?.revocationPending ?? false).toBe(false);
  });
});
