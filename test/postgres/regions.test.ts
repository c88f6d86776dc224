// A database only some regions reach (CONTRACT §16, databases[].regions): two brokers on one table, one in
// a region that reaches the database and one in a region that does not. The one that does not refuses the
// task before recording anything and ends grants without connecting, leaving the role's drop pending; the
// sweep there leaves it alone, and the reaching region's sweep drops the role, even on a shard whose lease
// the other region holds.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { type LeaseStore, ShardLeases } from "../../lib/core/sweep-lease.ts";
import type { PgAdmin } from "../../lib/postgres/pg-admin.ts";
import type { TestBroker } from "../support/broker.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";
import { createPgBroker, provision } from "./support.ts";

const unavailable = postgresUnavailable();
const REACHING = "us-east-1";
const OTHER = "us-west-2";

/** Every shard's lease is held by `holder`, live. */
const leasesHeldBy = (holder: string): LeaseStore => ({
  tryLease: async (_shard, who) => who === holder,
  release: async () => {},
  list: async () => new Map(),
});

describe.skipIf(unavailable !== undefined)("postgres provider: a database only some regions reach", () => {
  let cluster: TestCluster;
  let issuer: TestIssuer;
  let reaching: TestBroker;
  let other: TestBroker;
  const admins: PgAdmin[] = [];
  /** Statements the non-reaching broker's admin ran: none may ever be run. */
  let otherConnections = 0;

  beforeAll(async () => {
    cluster = await startTestCluster();
    await provision(cluster);
    issuer = await createTestIssuer();
    const database = { regions: [REACHING] };
    reaching = await createPgBroker(cluster, {
      issuer,
      database,
      region: REACHING,
      onAdmin: (a) => admins.push(a),
    });
    other = await createPgBroker(cluster, {
      issuer,
      database,
      region: OTHER,
      store: reaching.store,
      onAdmin: (a) => {
        admins.push(a);
        const withSession = a.withSession.bind(a);
        a.withSession = ((name: string, fn: Parameters<PgAdmin["withSession"]>[1]) => {
          otherConnections++;
          return withSession(name, fn);
        }) as PgAdmin["withSession"];
      },
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(admins.map((a) => a.close()));
    await cluster?.destroy();
    await closeSharedDynamo();
  }, 60_000);

  const token = (b: TestBroker) => issuer.mint({ repository: "acme/web" }, { nowMs: b.clock.now() });
  const roles = async () =>
    (await cluster.sql<{ rolname: string }>("SELECT rolname FROM pg_roles WHERE rolname LIKE 'cb\\_%'")).map(
      (r) => r.rolname,
    );

  it("refuses the task with 503 in a region that does not reach its database, recording nothing", async () => {
    const before = (await other.store.listGrants({})).items.length;
    const { status, body } = await other.exchange(await token(other), { scope: "read-reports-db" });
    expect(status).toBe(503);
    expect(body["error"]).toBe("temporarily_unavailable");
    expect((await other.store.listGrants({})).items).toHaveLength(before);
    expect(other.logs.join("\n")).toMatch(/this region does not reach its database/);
    expect(other.logs.join("\n")).toContain(`"region":"${OTHER}"`);
    expect(otherConnections).toBe(0);
  });

  it("ends a grant without connecting where the database is not reached; the reaching region's sweep drops the role", async () => {
    const { status, body } = await reaching.exchange(await token(reaching), { scope: "read-reports-db" });
    expect(status).toBe(200);
    const grantId = body["grant_id"] as string;
    const role = `cb_${grantId}`;
    expect(await roles()).toContain(role);

    const grant = await other.store.getGrant(grantId);
    other.clock.set(reaching.clock.now());
    const revoked = await revokeGrant(other.deps, grant!, { reason: "incident 9", kind: "admin" });
    expect(revoked).toMatchObject({ status: "revoked", revocationPending: true });
    expect(otherConnections).toBe(0);
    expect(await roles()).toContain(role);

    // The other region's sweep, holding every lease, leaves it for the reaching region: not an error.
    const elsewhere = await sweepDue(other.deps, {
      leases: new ShardLeases(leasesHeldBy(OTHER), OTHER, other.clock),
    });
    expect(elsewhere).toMatchObject({ errors: 0, retried: 0, revoked: 0, leftToOtherRegions: 1 });
    expect(otherConnections).toBe(0);
    expect(await reaching.store.getGrant(grantId)).toMatchObject({
      status: "revoked",
      revocationPending: true,
    });
    expect(await roles()).toContain(role);

    // The reaching region's sweep ends it although the other region holds the shard's lease.
    const reached = await sweepDue(reaching.deps, {
      leases: new ShardLeases(leasesHeldBy(OTHER), REACHING, reaching.clock),
    });
    expect(reached).toMatchObject({ errors: 0, retried: 1, revoked: 1 });
    expect(reached.leasedElsewhere).toBeGreaterThan(0);
    const ended = await reaching.store.getGrant(grantId);
    expect(ended?.status).toBe("revoked");
    expect(ended?.revocationPending ?? false).toBe(false);
    expect(await roles()).not.toContain(role);
  });

  it("leaves expiry's drop to the reaching region too, and the leftover sweep to the databases it reaches", async () => {
    const { body } = await reaching.exchange(await token(reaching), { scope: "read-reports-db" });
    const grantId = body["grant_id"] as string;
    const expiresAt = Date.parse((await reaching.store.getGrant(grantId))!.expiresAt);
    other.clock.set(expiresAt + 1_000);
    const swept = await sweepDue(other.deps);
    expect(swept).toMatchObject({ expired: 1, errors: 0, leftovers: 0 });
    expect(otherConnections).toBe(0);
    expect(await reaching.store.getGrant(grantId)).toMatchObject({
      status: "expired",
      revocationPending: true,
    });

    reaching.clock.set(expiresAt + 2_000);
    const dropped = await sweepDue(reaching.deps);
    expect(dropped).toMatchObject({ errors: 0, revoked: 1 });
    expect(await reaching.store.getGrant(grantId)).toMatchObject({
      status: "expired",
      revocationPending: false,
    });
    expect(await roles()).not.toContain(`cb_${grantId}`);
  });
});
