// Upstream faults: AWS STS failing or timing out (the Query-protocol fixture), DynamoDB failing after STS
// issued, IAM failing while the sweep revokes, and the issuer's JWKS endpoint going down. Each name says
// what the caller sees; each asserts that every session STS may have made has a grant that is active or
// revoked by tag — none is missing.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { DEPLOY_TASK, deployRequest, ROLE_NAME, STS_POLICIES } from "../aws-sts/support.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { type DynamoFaultProxy, setsStatus, startDynamoFaultProxy } from "../fixtures/dynamo-fault-proxy.ts";
import { baseConfig, createTestBroker, NOW, sharedDynamo, type TestBroker } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { allGrants, expectNoCredential } from "./helpers.ts";

let aws: AwsQueryServer;
let proxy: DynamoFaultProxy;
let tables = 0;

interface StsRig {
  broker: TestBroker;
  truth: DynamoGrantStore;
  token: string;
}

async function stsRig(): Promise<StsRig> {
  const dynamo = await sharedDynamo();
  const tableName = `upstream${process.pid}x${++tables}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoGrantStore({
    client: localDynamoClient(proxy.url, { requestTimeoutMs: 1500 }),
    tableName,
  });
  const truth = new DynamoGrantStore({ client: dynamo.client, tableName });
  const issuer = await createTestIssuer();
  const config = (i: typeof issuer) => {
    const base = baseConfig(i);
    return { ...base, tasks: [...(base["tasks"] as unknown[]), DEPLOY_TASK] };
  };
  const resolved = resolveConfig(
    config(issuer),
    [{ file: "policies/test.cedar", text: STS_POLICIES }],
    "test-config",
  );
  // One attempt and a short timeout, as a Lambda close to its deadline would have.
  const clientConfig = {
    ...aws.clientConfig,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 1500, throwOnRequestTimeout: true },
  };
  const providers = awsProviders(resolved, {
    stsClient: (region) => new STSClient({ ...clientConfig, region }),
    iamClient: new IAMClient(clientConfig),
  });
  const broker = await createTestBroker({
    issuer,
    config,
    policies: STS_POLICIES,
    store,
    adapters: { providers },
  });
  return {
    broker,
    truth,
    token: await issuer.mint({ repository: "acme/web", ref: "refs/heads/main" }, { nowMs: NOW }),
  };
}

const revocationList = () => JSON.stringify(aws.policyDocument(ROLE_NAME, "credbroker-revocations") ?? {});

/**
 * After a 503 nobody received a credential: every session STS may have made has a grant that is failed
 * and denied by tag in IAM. (An active grant here would be a credential that exists but reached no one.)
 */
async function expectEverySessionDeniedByTag(r: StsRig) {
  const grants = await allGrants(r.truth);
  const sessions = aws.callsTo("AssumeRole").map((c) => c.params["RoleSessionName"]!.replace(/^cb-/, ""));
  expect(sessions.length).toBeGreaterThan(0);
  for (const id of sessions) {
    const grant = grants.find((g) => g.grantId === id) as Grant | undefined;
    expect(grant, `grant ${id} for an AssumeRole call`).toBeDefined();
    expect(grant!.status).toBe("failed");
    expect(revocationList()).toContain(id);
  }
}

async function sweepLater(r: StsRig, ms = 61_000) {
  r.broker.clock.advance(ms);
  proxy.clear();
  return sweepDue(r.broker.deps, { budgetMs: 10_000 });
}

beforeAll(async () => {
  aws = await startAwsQueryServer({ now: () => NOW });
  proxy = await startDynamoFaultProxy((await sharedDynamo()).endpoint);
});
afterAll(async () => {
  await aws?.close();
  await proxy?.close();
});
beforeEach(() => {
  aws.reset();
  proxy.clear();
});

describe("AWS STS faults", () => {
  it("503 when AssumeRole times out; the failed grant is denied by tag at the next sweep", async () => {
    const r = await stsRig();
    aws.setLatency("AssumeRole", 2500);
    const res = await r.broker.call("token", deployRequest(r.token));
    expect(res.status).toBe(503);
    expectNoCredential(res.body);
    const [grant] = await allGrants(r.truth);
    expect(grant).toMatchObject({ status: "failed", revocationPending: true });
    aws.setLatency("AssumeRole", 0);
    await new Promise((res) => setTimeout(res, 1200)); // the slow AssumeRole completes at STS meanwhile
    await sweepLater(r, 1_000);
    expect(revocationList()).toContain(grant!.grantId);
    expect((await r.truth.getGrant(grant!.grantId))?.revocationPending).toBeFalsy();
    await expectEverySessionDeniedByTag(r);
  });

  it("503 when STS answers 500; the grant is failed and denied by tag", async () => {
    const r = await stsRig();
    aws.failNext("AssumeRole", { code: "InternalFailure", status: 500, times: 5 });
    const res = await r.broker.call("token", deployRequest(r.token));
    expect(res.status).toBe(503);
    expectNoCredential(res.body);
    await sweepLater(r, 1_000);
    await expectEverySessionDeniedByTag(r);
  });

  it("400 when STS refuses the session policy; the grant is failed and needs no revocation", async () => {
    const r = await stsRig();
    aws.failNext("AssumeRole", { code: "MalformedPolicyDocument", status: 400, times: 5 });
    const res = await r.broker.call("token", deployRequest(r.token));
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    const [grant] = await allGrants(r.truth);
    expect(grant?.status).toBe("failed");
    expect(grant?.revocationPending).toBeFalsy();
  });

  it("503 when DynamoDB fails after STS issued; the sweep fails the grant and denies the session by tag", async () => {
    const r = await stsRig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "throttle" } });
    const res = await r.broker.call("token", deployRequest(r.token));
    expect(res.status).toBe(503);
    expectNoCredential(res.body);
    expect(aws.callsTo("AssumeRole")).toHaveLength(1);
    const summary = await sweepLater(r);
    expect(summary.failed).toBe(1);
    await expectEverySessionDeniedByTag(r);
  });

  it("IAM failing during the sweep leaves the revocation pending; the next sweep applies it", async () => {
    const r = await stsRig();
    const res = await r.broker.call("token", deployRequest(r.token));
    expect(res.status).toBe(200);
    const grantId = res.body["grant_id"] as string;
    // The workload ends its own grant while IAM is down: revoked in the store, pending in IAM.
    aws.failNext("PutRolePolicy", { code: "ServiceFailure", status: 500, times: 20 });
    const released = await r.broker.call("revoke", { token: grantId, subject_token: r.token });
    expect(released.status).toBe(200);
    expect(await r.truth.getGrant(grantId)).toMatchObject({ status: "revoked", revocationPending: true });
    await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect((await r.truth.getGrant(grantId))?.revocationPending).toBe(true);
    aws.reset();
    r.broker.clock.advance(1_000);
    await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect((await r.truth.getGrant(grantId))?.revocationPending).toBeFalsy();
    expect(revocationList()).toContain(grantId);
  });
});

describe("issuer JWKS endpoint down", () => {
  let server: Server;
  let mode: "up" | "down" | "garbage" = "up";
  let hits = 0;
  let jwksUrl: string;
  const issuerPromise = createTestIssuer("https://remote-issuer.test");

  beforeAll(async () => {
    const issuer = await issuerPromise;
    server = createServer((_req, res) => {
      hits++;
      if (mode === "down") {
        res.writeHead(503);
        res.end();
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(mode === "garbage" ? '{"keys": "nope"}' : JSON.stringify(issuer.jwks));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  async function remoteBroker(cacheMaxAgeMs: number) {
    const issuer = await issuerPromise;
    return createTestBroker({
      issuer,
      config: (i) => {
        const base = baseConfig(i);
        const [first] = base["issuers"] as Record<string, unknown>[];
        const { jwks: _inline, ...rest } = first!;
        return { ...base, issuers: [{ ...rest, jwksUri: jwksUrl }] };
      },
      adapters: { verifier: { jwksCacheMaxAgeMs: cacheMaxAgeMs, jwksCooldownMs: 0, fetchTimeoutMs: 300 } },
    });
  }

  it("200 from cached keys while the endpoint is down, then 503 once the cache lifetime has passed", async () => {
    mode = "up";
    // Generous margins: the cached exchange must land inside the lifetime even on a loaded machine.
    const broker = await remoteBroker(3000);
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    expect((await broker.exchange(token)).status).toBe(200);
    mode = "down";
    const cached = await broker.exchange(token);
    expect(cached.status).toBe(200);
    await new Promise((r) => setTimeout(r, 3300));
    const stale = await broker.exchange(token);
    expect(stale.status).toBe(503);
    expect(stale.body["error"]).toBe("temporarily_unavailable");
    expectNoCredential(stale.body);
    expect((await allGrants(broker.store)).length).toBe(2);
  });

  it("503 when the endpoint serves an invalid key set; nothing issued", async () => {
    mode = "garbage";
    const broker = await remoteBroker(60_000);
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expectNoCredential(res.body);
    expect(await allGrants(broker.store)).toEqual([]);
  });

  it("503 when the endpoint is down from the start; nothing issued", async () => {
    mode = "down";
    const before = hits;
    const broker = await remoteBroker(60_000);
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expect(hits).toBeGreaterThan(before);
    expect(await allGrants(broker.store)).toEqual([]);
  });
});
