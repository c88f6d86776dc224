// A broker with postgres tasks on a real throw-away cluster: an admin role with CREATEROLE (not SUPERUSER),
// group roles fit to hand out, and some that must be refused. One cluster per test file (beforeAll).
import pg from "pg";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import type { PgAdmin } from "../../lib/postgres/pg-admin.ts";
import { postgresProviders } from "../../lib/runtime/postgres-providers.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  type TestBroker,
} from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";
import { startTestCluster, type TestCluster } from "../support/postgres.ts";

export const ADMIN_ENV = "CB_TEST_PG_ADMIN";
export const ADMIN_PASSWORD = "broker-admin-test-password";

export const PG_TASKS = [
  {
    name: "read-reports-db",
    provider: "postgres",
    database: "reports-db",
    memberOf: ["reporting_read"],
    connectionLimit: 2,
    maxDurationSeconds: 3600,
  },
  {
    name: "write-reports-db",
    provider: "postgres",
    database: "reports-db",
    memberOf: ["reporting_write", "reporting_read"],
    connectionLimit: 5,
    maxDurationSeconds: 3600,
  },
  { name: "via-createrole", provider: "postgres", database: "reports-db", memberOf: ["ops_admins"] },
  { name: "via-nested-superuser", provider: "postgres", database: "reports-db", memberOf: ["nested_group"] },
  { name: "via-builtin", provider: "postgres", database: "reports-db", memberOf: ["file_readers"] },
  { name: "via-missing", provider: "postgres", database: "reports-db", memberOf: ["no_such_group"] },
];

export const PG_POLICIES = `${BASE_POLICIES}
@id("web-ci-databases")
permit (principal == Workload::"web-ci", action == Action::"issue", resource);
`;

/** The cluster's fixed setup: what docs/postgres.md tells an operator to create. */
export async function provision(cluster: TestCluster): Promise<void> {
  await cluster.sql("CREATE DATABASE reports");
  await cluster.sql(`CREATE ROLE broker_admin LOGIN CREATEROLE PASSWORD '${ADMIN_PASSWORD}'`);
  await cluster.sql("CREATE ROLE reporting_read NOLOGIN");
  await cluster.sql("CREATE ROLE reporting_write NOLOGIN");
  // PostgreSQL 15: REASSIGN OWNED needs the admin to be a member of the heir (16+: WITH ADMIN OPTION).
  await cluster.sql("GRANT reporting_read, reporting_write TO broker_admin");
  await cluster.sql("CREATE ROLE ops_admins NOLOGIN CREATEROLE");
  await cluster.sql("CREATE ROLE root_group NOLOGIN SUPERUSER");
  await cluster.sql("CREATE ROLE nested_group NOLOGIN IN ROLE root_group");
  await cluster.sql("CREATE ROLE file_readers NOLOGIN IN ROLE pg_read_server_files");
  await cluster.sql("CREATE TABLE report (id int PRIMARY KEY, body text)", [], "reports");
  await cluster.sql("INSERT INTO report VALUES (1, 'q3 revenue')", [], "reports");
  await cluster.sql("GRANT SELECT ON report TO reporting_read", [], "reports");
  await cluster.sql("GRANT CREATE ON SCHEMA public TO reporting_write", [], "reports");
}

export interface PgRig {
  cluster: TestCluster;
  broker: TestBroker;
  issuer: TestIssuer;
  admin: PgAdmin;
  /** Every pg client a test opened, ended after each test. */
  clients: pg.Client[];
  token(): Promise<string>;
  issue(
    task: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Logs in with what the broker returned. */
  login(body: Record<string, unknown>): Promise<pg.Client>;
  roles(): Promise<string[]>;
}

export function pgConfig(
  issuer: TestIssuer,
  port: number,
  tasks: unknown[] = PG_TASKS,
  database: Record<string, unknown> = {},
): Record<string, unknown> {
  const base = baseConfig(issuer);
  return {
    ...base,
    tasks: [...(base["tasks"] as unknown[]), ...tasks],
    databases: [
      {
        name: "reports-db",
        host: "127.0.0.1",
        port,
        database: "reports",
        tls: "disable",
        admin: { urlEnv: ADMIN_ENV },
        ...database,
      },
    ],
  };
}

export async function createPgBroker(
  cluster: TestCluster,
  options: {
    issuer?: TestIssuer;
    store?: DynamoGrantStore;
    tasks?: unknown[];
    policies?: string;
    /** Fields of the databases entry to replace (an admin secretArn, say). */
    database?: Record<string, unknown>;
    /** The provider's environment; the admin URL by default. */
    env?: NodeJS.ProcessEnv;
    onAdmin?: (a: PgAdmin) => void;
    /** The region the broker runs in (a Lambda's AWS_REGION); none reaches every database. */
    region?: string;
  } = {},
): Promise<TestBroker> {
  const issuer = options.issuer ?? (await createTestIssuer());
  const config = (i: TestIssuer) => pgConfig(i, cluster.port, options.tasks, options.database);
  const resolved = resolveConfig(
    config(issuer),
    [{ file: "policies/test.cedar", text: options.policies ?? PG_POLICIES }],
    "test-config",
  );
  let broker: TestBroker | undefined;
  const clock = { now: () => broker?.clock.now() ?? Date.now() };
  let sink: string[] = [];
  const providers = postgresProviders(resolved, {
    env: options.env ?? {
      [ADMIN_ENV]: `postgres://broker_admin:${ADMIN_PASSWORD}@127.0.0.1:${cluster.port}/reports`,
    },
    clock,
    log: {
      info: () => {},
      warn: (m, f) => sink.push(JSON.stringify({ level: "warn", message: m, ...f })),
      error: (m, f) => sink.push(JSON.stringify({ level: "error", message: m, ...f })),
    },
    admin: { backoffMs: 0, maxBackoffMs: 0, connectTimeoutMs: 2_000 },
    ...(options.onAdmin ? { onAdmin: options.onAdmin } : {}),
    ...(options.region ? { region: options.region } : {}),
  });
  broker = await createTestBroker({
    issuer,
    config,
    policies: options.policies ?? PG_POLICIES,
    adapters: { providers },
    ...(options.store ? { store: options.store } : {}),
  });
  // The provider logs into the broker's list, so tests read one list.
  sink = broker.logs;
  broker.clock.set(Date.now());
  return broker;
}

export function usePgRig(): PgRig {
  const rig = { clients: [] as pg.Client[] } as PgRig;
  beforeAll(async () => {
    rig.cluster = await startTestCluster();
    await provision(rig.cluster);
    rig.issuer = await createTestIssuer();
    rig.broker = await createPgBroker(rig.cluster, {
      issuer: rig.issuer,
      onAdmin: (a) => {
        rig.admin = a;
      },
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all(rig.clients.map((c) => c.end().catch(() => undefined)));
    await rig.admin?.close();
    await rig.cluster?.destroy();
    await closeSharedDynamo();
  }, 60_000);
  beforeEach(async () => {
    // The server's VALID UNTIL runs on the real clock, so the broker's does too (fixed within a test).
    rig.broker.clock.set(Date.now());
    await Promise.all(rig.clients.splice(0).map((c) => c.end().catch(() => undefined)));
  });
  rig.token = () => rig.issuer.mint({ repository: "acme/web" }, { nowMs: rig.broker.clock.now() });
  rig.issue = async (task, extra = {}) => rig.broker.exchange(await rig.token(), { scope: task, ...extra });
  rig.login = async (body) => {
    const p = body["postgres"] as Record<string, unknown>;
    const client = new pg.Client({
      host: String(p["host"]),
      port: Number(p["port"]),
      database: String(p["database"]),
      user: String(p["username"]),
      password: String(p["password"]),
    });
    // A killed session emits an error; the tests look at the query results instead.
    client.on("error", () => {});
    await client.connect();
    rig.clients.push(client);
    return client;
  };
  rig.roles = async () =>
    (
      await rig.cluster.sql<{ rolname: string }>(
        "SELECT rolname FROM pg_roles WHERE rolname LIKE 'cb\\_%' ORDER BY 1",
      )
    ).map((r) => r.rolname);
  return rig;
}
