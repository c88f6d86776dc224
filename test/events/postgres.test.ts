// A completed GitHub job ends its PostgreSQL grants as any revocation does (CONTRACT §8.2, §13): the role
// is gone from the real server and none of its sessions is left; a grant of another job keeps its role.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { postgresProviders } from "../../lib/runtime/postgres-providers.ts";
import { ADMIN_ENV, ADMIN_PASSWORD, PG_POLICIES, pgConfig, provision } from "../postgres/support.ts";
import { closeSharedDynamo, createTestBroker, type TestBroker } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";
import { EVENTS_CONFIG, EXAMPLE_JOB_CLAIMS, githubDeliverer } from "./in-process.ts";
import { githubExample } from "./support.ts";

const skip = postgresUnavailable();
let cluster: TestCluster;
let broker: TestBroker;
const clients: pg.Client[] = [];

beforeAll(async () => {
  if (skip) return;
  cluster = await startTestCluster();
  await provision(cluster);
  const issuer = await createTestIssuer();
  const config = (i: typeof issuer) => ({ ...pgConfig(i, cluster.port), events: EVENTS_CONFIG });
  const resolved = resolveConfig(
    config(issuer),
    [{ file: "policies/test.cedar", text: PG_POLICIES }],
    "test",
  );
  const providers = postgresProviders(resolved, {
    env: { [ADMIN_ENV]: `postgres://broker_admin:${ADMIN_PASSWORD}@127.0.0.1:${cluster.port}/reports` },
    clock: { now: () => Date.now() },
    admin: { backoffMs: 0, maxBackoffMs: 0, connectTimeoutMs: 2_000 },
  });
  broker = await createTestBroker({ issuer, config, policies: PG_POLICIES, adapters: { providers } });
  // The server's VALID UNTIL runs on the real clock, so the broker's does too.
  broker.clock.set(Date.now());
}, 120_000);
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await cluster?.destroy();
  await closeSharedDynamo();
}, 60_000);

async function login(body: Record<string, unknown>): Promise<pg.Client> {
  const p = body["postgres"] as Record<string, unknown>;
  const client = new pg.Client({
    host: String(p["host"]),
    port: Number(p["port"]),
    database: String(p["database"]),
    user: String(p["username"]),
    password: String(p["password"]),
  });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

describe.skipIf(skip)("a completed workflow_job and its postgres grants", () => {
  it("drops the job's role and ends its sessions; another job's role stays", async () => {
    const mint = (claims: Record<string, unknown>) =>
      broker.issuer.mint(claims, { nowMs: broker.clock.now() });
    const mine = await broker.exchange(await mint(EXAMPLE_JOB_CLAIMS), { scope: "read-reports-db" });
    const other = await broker.exchange(await mint({ ...EXAMPLE_JOB_CLAIMS, check_run_id: "1" }), {
      scope: "read-reports-db",
    });
    expect(mine.status).toBe(200);
    expect(other.status).toBe(200);
    const session = await login(mine.body);
    expect((await session.query("SELECT body FROM report")).rows).toHaveLength(1);
    const role = (mine.body["postgres"] as { username: string }).username;
    const otherRole = (other.body["postgres"] as { username: string }).username;

    const result = await githubDeliverer(broker)("workflow_job", githubExample("workflow_job", "completed"));
    expect(result.body).toEqual({ ended: 1, grants: [mine.body["grant_id"]] });

    const roles = (await cluster.sql<{ rolname: string }>("SELECT rolname FROM pg_roles")).map(
      (r) => r.rolname,
    );
    expect(roles).not.toContain(role);
    expect(roles).toContain(otherRole);
    expect(await cluster.sql("SELECT pid FROM pg_stat_activity WHERE usename = $1", [role])).toEqual([]);
    expect(await broker.store.getGrant(mine.body["grant_id"] as string)).toMatchObject({
      status: "revoked",
      reason: "task-ended",
    });
  });
});
