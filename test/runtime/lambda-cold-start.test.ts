// The request functions' handler modules, loaded as the Lambda runtime loads them, with KMS down: loading
// must not wait for KMS or fail with it (a module that fails to load is an init error, which API Gateway turns
// into a 500), a request answers the contract's 503, and the first request after KMS is back is served.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { loadConfigFileSync, toConfigBundle } from "../../lib/config/load-sync.ts";
import type { HttpEvent, HttpResult } from "../../lib/http/apigw.ts";
import { type LocalDynamo, startLocalDynamo } from "../../lib/local/dynalite.ts";
import { writeConfig } from "../constructs/support.ts";
import { type KmsFixture, startKmsFixture } from "../fixtures/kms-server.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";

type Handler = (event: HttpEvent) => Promise<HttpResult>;

let dynamo: LocalDynamo;
let kms: KmsFixture;
let issuer: TestIssuer;
let token: Handler;
let metadata: Handler;
const logLines: string[] = [];

const event = (method: string, path: string, body?: Record<string, string>): HttpEvent => ({
  rawPath: path,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  ...(body ? { body: new URLSearchParams(body).toString() } : {}),
  requestContext: { requestId: "req-cold", http: { method, path, sourceIp: "203.0.113.7" } },
});

const exchange = async () =>
  event("POST", "/token", {
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token: await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" }),
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    scope: "read-reports",
  });

const getPublicKeyCalls = () => kms.calls.filter((c) => c.target === "TrentService.GetPublicKey").length;

beforeAll(async () => {
  issuer = await createTestIssuer();
  // The default policy lets a workload of repository acme/web read reports.
  const configPath = writeConfig({
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.test",
    issuers: [{ name: "test", issuer: issuer.issuer, jwks: issuer.jwks, algorithms: ["ES256"] }],
    workloads: [{ name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" }],
    tasks: [
      { name: "read-reports", provider: "jwt", audience: "https://reports.test", scopes: ["reports:read"] },
    ],
    policies: ["policies/*.cedar"],
  });
  const bundlePath = join(configPath, "..", "credbroker.config.json");
  writeFileSync(bundlePath, JSON.stringify(toConfigBundle(loadConfigFileSync(configPath))));
  dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, "credbroker-cold-start");
  kms = await startKmsFixture();
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    CREDBROKER_TABLE: "credbroker-cold-start",
    CREDBROKER_SIGNING_KEY_ID: kms.keyArn,
    CREDBROKER_CONFIG_BUNDLE: bundlePath,
  });
  vi.spyOn(process.stdout, "write").mockImplementation((chunk) => {
    logLines.push(String(chunk));
    return true;
  });
  // KMS is down from before the modules load until a test brings it back.
  kms.failNext(1_000);
  token = (await import("../../lambdas/token.ts")).handler;
  metadata = (await import("../../lambdas/metadata.ts")).handler;
}, 60_000);

afterAll(async () => {
  vi.restoreAllMocks();
  await kms?.close();
  await dynamo?.close();
});

describe("Lambda request handlers at cold start", () => {
  it("load while KMS is down: the warm-up's call to KMS fails without failing the load", async () => {
    expect(token).toBeTypeOf("function");
    expect(metadata).toBeTypeOf("function");
    // Before any request, the warm-up has asked KMS for the signing key (and been refused).
    await vi.waitFor(() => expect(getPublicKeyCalls()).toBeGreaterThan(0));
  });

  it("answer 503 temporarily_unavailable with no-store while KMS is unreachable, logging the error name only", async () => {
    for (const res of [
      await token(await exchange()),
      await metadata(event("GET", "/.well-known/jwks.json")),
    ]) {
      expect(res.statusCode).toBe(503);
      expect(res.headers["cache-control"]).toBe("no-store");
      expect(JSON.parse(res.body)).toMatchObject({
        error: "temporarily_unavailable",
        request_id: "req-cold",
      });
    }
    expect(getPublicKeyCalls()).toBeGreaterThan(0);
    const failures = logLines.filter((l) => l.includes("broker unavailable")).map((l) => JSON.parse(l));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      level: "error",
      error: "KMSInternalException",
      requestId: "req-cold",
    });
    expect(logLines.join("")).not.toContain("injected failure");
  });

  it("serve the first request after KMS is back, and build the signer only once", async () => {
    kms.failNext(0);
    const res = await token(await exchange());
    expect(res.statusCode).toBe(200);
    const { access_token: accessToken } = JSON.parse(res.body);
    await expect(
      jwtVerify(accessToken, kms.publicKey, { audience: "https://reports.test" }),
    ).resolves.toBeDefined();
    const built = getPublicKeyCalls();
    const jwks = await metadata(event("GET", "/.well-known/jwks.json"));
    expect(jwks.statusCode).toBe(200);
    expect(JSON.parse(jwks.body).keys).toHaveLength(1);
    expect((await token(await exchange())).statusCode).toBe(200);
    expect(getPublicKeyCalls()).toBe(built);
  });
});
