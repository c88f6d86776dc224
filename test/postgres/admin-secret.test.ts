// The admin login from Secrets Manager (GetSecretValue over the AWS JSON protocol, on a loopback fixture)
// or from an environment URL; a credential that cannot be had is a 503 with nothing recorded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgAdmin } from "../../lib/postgres/pg-admin.ts";
import {
  type SecretsManagerFixture,
  startSecretsManagerFixture,
} from "../fixtures/secrets-manager-server.ts";
import { closeSharedDynamo, type TestBroker } from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";
import { ADMIN_PASSWORD, createPgBroker, provision } from "./support.ts";

const unavailable = postgresUnavailable();
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:credbroker/reports-AbCdEf";

describe.skipIf(unavailable !== undefined)("postgres provider: the admin credential", () => {
  let cluster: TestCluster;
  let sm: SecretsManagerFixture;
  let issuer: TestIssuer;
  const admins: PgAdmin[] = [];
  const env = () => ({ AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint });

  beforeAll(async () => {
    cluster = await startTestCluster();
    await provision(cluster);
    sm = await startSecretsManagerFixture();
    issuer = await createTestIssuer();
  }, 120_000);
  afterAll(async () => {
    await Promise.all(admins.map((a) => a.close()));
    await sm?.close();
    await cluster?.destroy();
    await closeSharedDynamo();
  });

  const broker = (options: { database?: Record<string, unknown>; env?: NodeJS.ProcessEnv }) =>
    createPgBroker(cluster, { issuer, ...options, onAdmin: (a) => admins.push(a) });
  const issue = async (b: TestBroker) =>
    b.exchange(await issuer.mint({ repository: "acme/web" }, { nowMs: b.clock.now() }), {
      scope: "read-reports-db",
    });

  it("reads {username, password} from the secret, signed, in the secret's region", async () => {
    sm.secrets.set(
      SECRET_ARN,
      JSON.stringify({ username: "broker_admin", password: ADMIN_PASSWORD, engine: "postgres" }),
    );
    const b = await broker({ database: { admin: { secretArn: SECRET_ARN } }, env: env() });
    const { status, body } = await issue(b);
    expect(status).toBe(200);
    expect((body["postgres"] as Record<string, unknown>)["username"]).toBe(`cb_${body["grant_id"]}`);
    const call = sm.calls.find((c) => c.secretId === SECRET_ARN);
    expect(call?.target).toBe("secretsmanager.GetSecretValue");
    expect(call?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/eu-west-1\/secretsmanager\//,
    );
    // Read once per process, not once per grant.
    const before = sm.calls.length;
    expect((await issue(b)).status).toBe(200);
    expect(sm.calls.length).toBe(before);
  });

  it.each([
    ["a secret that does not exist", undefined],
    ["a secret that is not JSON with username and password", "broker_admin:secret"],
    ["a secret whose password is wrong", JSON.stringify({ username: "broker_admin", password: "wrong" })],
  ])("answers 503 and records no grant for %s", async (_what, value) => {
    const arn = `${SECRET_ARN}-${sm.calls.length}`;
    if (value !== undefined) sm.secrets.set(arn, value);
    const b = await broker({ database: { admin: { secretArn: arn } }, env: env() });
    const { status, body } = await issue(b);
    expect(status).toBe(503);
    expect(JSON.stringify(body)).not.toContain("wrong");
    expect((await b.store.listGrants()).items).toEqual([]);
  });

  it("answers 503 when the admin URL's environment variable is not set", async () => {
    const b = await broker({ env: {} });
    expect((await issue(b)).status).toBe(503);
  });
});
