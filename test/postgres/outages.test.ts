// A database that goes away: an issue answers 503 and leaves a failed grant whose role the sweep drops; a
// revocation stays pending, counted in the sweep's errors, until the database is back. And roles no live
// grant owns (left by a crash) are found and dropped by the sweep.
import { describe, expect, it } from "vitest";
import { isoSeconds } from "../../lib/core/clock.ts";
import { newId } from "../../lib/core/ids.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { postgresUnavailable } from "../support/postgres.ts";
import { usePgRig } from "./support.ts";

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)("postgres provider: outages and leftovers", () => {
  const rig = usePgRig();

  it("answers 503 when the database stops during issue; the grant is failed and the sweep finishes it", async () => {
    expect((await rig.issue("read-reports-db")).status).toBe(200); // the group roles were checked just now
    await rig.cluster.stop();
    let grantId: string;
    try {
      const { status, body } = await rig.issue("read-reports-db");
      expect(status).toBe(503);
      expect(body["error"]).toBe("temporarily_unavailable");
      const failed = (await rig.broker.store.listGrants({ status: "failed" })).items;
      expect(failed).toHaveLength(1);
      grantId = failed[0]!.grantId;
      expect(failed[0]).toMatchObject({ revocationPending: true, database: "reports-db" });
      const down = await sweepDue(rig.broker.deps);
      expect(down.errors).toBeGreaterThan(0);
    } finally {
      await rig.cluster.start();
    }
    const up = await sweepDue(rig.broker.deps);
    expect(up.errors).toBe(0);
    const grant = await rig.broker.store.getGrant(grantId);
    expect(grant).toMatchObject({ status: "failed" });
    expect(grant?.revocationPending ?? false).toBe(false);
    expect(await rig.roles()).not.toContain(`cb_${grantId}`);
  });

  it("keeps a revocation pending while the database is down, and ends the role once it is back", async () => {
    const { body } = await rig.issue("read-reports-db");
    const grantId = body["grant_id"] as string;
    const role = `cb_${grantId}`;
    await rig.cluster.stop();
    try {
      const res = await rig.broker.call("revoke", {
        token: grantId,
        subject_token: await rig.token(),
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      });
      expect(res.status).toBe(200);
      expect(await rig.broker.store.getGrant(grantId)).toMatchObject({
        status: "revoked",
        revocationPending: true,
      });
      const down = await sweepDue(rig.broker.deps);
      expect(down).toMatchObject({ retried: 1, revoked: 0 });
      expect(down.errors).toBeGreaterThan(0);
      expect(await rig.broker.store.getGrant(grantId)).toMatchObject({ revocationPending: true });
    } finally {
      await rig.cluster.start();
    }
    expect(await rig.roles()).toContain(role);
    // A session opened while the revocation was pending is ended too.
    const client = await rig.login(body);
    const up = await sweepDue(rig.broker.deps);
    expect(up).toMatchObject({ retried: 1, revoked: 1, errors: 0 });
    await expect(client.query("SELECT 1")).rejects.toThrow();
    expect(await rig.roles()).not.toContain(role);
    const grant = await rig.broker.store.getGrant(grantId);
    expect(grant?.revocationPending ?? false).toBe(false);
  });

  it("drops the role of a grant whose process died between CREATE ROLE and activation", async () => {
    const { deps, store, clock } = rig.broker;
    const task = deps.tasks.get("read-reports-db")!;
    const provider = deps.providers.postgres!;
    const now = clock.now();
    const grantId = newId(now);
    const prepared = provider.prepare({
      task,
      workload: "web-ci",
      grantId,
      claims: {},
      durationSeconds: 600,
      nowMs: now,
    });
    const grant = {
      grantId,
      workload: "web-ci",
      subject: "repo:acme/web:ref:refs/heads/main",
      issuer: "test",
      task: task.name,
      provider: "postgres" as const,
      status: "issuing" as const,
      issuedAt: isoSeconds(now),
      expiresAt: isoSeconds(now + 600_000),
      policyIds: ["web-ci-databases"],
      sourceIp: "127.0.0.1",
      purpose: "",
      decisionId: newId(now),
      durationSeconds: 600,
      configVersion: deps.configVersion,
      subjectTokenSha256: "0".repeat(64),
      ...prepared.grantFields,
    };
    await store.createGrant(grant, now + 60_000);
    await provider.issue(prepared, grant); // the role exists; the process dies before the grant is active
    expect(await rig.roles()).toContain(`cb_${grantId}`);
    clock.advance(61_000);
    const summary = await sweepDue(deps);
    expect(summary).toMatchObject({ failed: 1, errors: 0 });
    expect(await rig.roles()).not.toContain(`cb_${grantId}`);
    const after = await store.getGrant(grantId);
    expect(after).toMatchObject({ status: "failed", reason: "abandoned while issuing" });
    expect(after?.revocationPending ?? false).toBe(false);
  });

  it("drops cb_ roles that no live grant owns and reports them in the sweep summary", async () => {
    const now = rig.broker.clock.now();
    const orphan = `cb_${newId(now - 600_000)}`; // a crash left it ten minutes ago; no grant was kept
    const recent = `cb_${newId(now - 10_000)}`; // may belong to a request still on its way: left alone
    await rig.cluster.sql(`CREATE ROLE "${orphan}" LOGIN VALID UNTIL '2000-01-01' IN ROLE reporting_read`);
    await rig.cluster.sql(`CREATE ROLE "${recent}" LOGIN IN ROLE reporting_read`);
    await rig.cluster.sql("CREATE ROLE cb_not_a_grant NOLOGIN");
    const live = await rig.issue("read-reports-db");
    const liveRole = `cb_${live.body["grant_id"]}`;
    const summary = await sweepDue(rig.broker.deps);
    expect(summary).toMatchObject({ leftovers: 1, errors: 0 });
    const roles = await rig.roles();
    expect(roles).not.toContain(orphan);
    expect(roles).toEqual(expect.arrayContaining([recent, liveRole, "cb_not_a_grant"]));
    expect(rig.broker.logs.join("\n")).toContain(orphan);
    await rig.cluster.sql(`DROP ROLE "${recent}"`);
    await rig.cluster.sql("DROP ROLE cb_not_a_grant");
  });

  it("answers 503 and records nothing when the group roles cannot be checked", async () => {
    rig.broker.clock.advance(61_000); // the last verdict on the group roles has lapsed
    await rig.cluster.stop();
    try {
      const before = (await rig.broker.store.listGrants()).items.length;
      const { status } = await rig.issue("read-reports-db");
      expect(status).toBe(503);
      expect((await rig.broker.store.listGrants()).items.length).toBe(before);
    } finally {
      await rig.cluster.start();
    }
  });
});
