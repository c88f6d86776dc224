// A broker wired like production but on dynalite, an inline-JWKS issuer, a local signer and a fixed clock.
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { type ResolvedConfig, resolveConfig } from "../../lib/config/resolve.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import type { BrokerDeps } from "../../lib/core/deps.ts";
import type { Logger } from "../../lib/core/logger.ts";
import type { HttpEvent, HttpResult } from "../../lib/http/apigw.ts";
import { createHandlers } from "../../lib/http/handlers.ts";
import { type LocalDynamo, startLocalDynamo } from "../../lib/local/dynalite.ts";
import { createLocalSigner, generateSigningKey } from "../../lib/local/local-signer.ts";
import { type BrokerAdapters, buildBrokerDeps } from "../../lib/runtime/broker-deps.ts";
import { createTestIssuer, type TestIssuer } from "./issuer.ts";

export const NOW = Date.parse("2026-11-30T10:00:00Z"); // a Monday, 10:00 UTC

export const BASE_POLICIES = `
@id("ci-reads-reports")
permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };

@id("no-quarantined")
forbid (principal, action, resource)
when { principal.hasTag("signal:quarantined") && principal.getTag("signal:quarantined") == "true" };

@id("no-forbidden-purpose")
forbid (principal, action, resource) when { context.purpose == "exfiltrate" };
`;

export function baseConfig(
  issuer: TestIssuer,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.test",
    issuers: [
      {
        name: "test",
        issuer: issuer.issuer,
        jwks: issuer.jwks,
        algorithms: [issuer.alg],
        maxTokenAgeSeconds: 900,
        clockToleranceSeconds: 30,
      },
    ],
    workloads: [
      { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
      { name: "old-job", issuer: "test", subject: "repo:acme/old:*", disabled: true },
    ],
    tasks: [
      {
        name: "read-reports",
        provider: "jwt",
        audience: "https://reports.test",
        scopes: ["reports:read"],
        maxDurationSeconds: 300,
        sensitivity: "low",
      },
    ],
    policies: ["policies/*.cedar"],
    ...overrides,
  };
}

export interface TestBroker {
  deps: BrokerDeps;
  store: DynamoGrantStore;
  issuer: TestIssuer;
  clock: ReturnType<typeof fixedClock>;
  resolved: ResolvedConfig;
  logs: string[];
  call(
    path: "token" | "introspect" | "revoke" | "jwks" | "metadata",
    body?: Record<string, string> | string,
    init?: Partial<Pick<HttpEvent, "headers">> & { method?: string; sourceIp?: string },
  ): Promise<{ status: number; body: Record<string, unknown>; result: HttpResult }>;
  exchange(
    token: string,
    extra?: Record<string, string>,
    sourceIp?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

let dynamo: LocalDynamo | undefined;
let tableCounter = 0;

export async function sharedDynamo(): Promise<LocalDynamo> {
  dynamo ??= await startLocalDynamo();
  return dynamo;
}

export async function closeSharedDynamo(): Promise<void> {
  await dynamo?.close();
  dynamo = undefined;
}

export async function newStore(
  options: { dueShards?: number; onRead?: (n: number) => void } = {},
): Promise<DynamoGrantStore> {
  const d = await sharedDynamo();
  const tableName = `t${process.pid}x${++tableCounter}`;
  await ensureTable(d.client, tableName);
  return new DynamoGrantStore({ client: d.client, tableName, ...options });
}

export interface TestBrokerOptions {
  config?: (issuer: TestIssuer) => Record<string, unknown>;
  policies?: string;
  store?: DynamoGrantStore;
  adapters?: Partial<BrokerAdapters>;
  issuer?: TestIssuer;
}

export async function createTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const issuer = options.issuer ?? (await createTestIssuer());
  const raw = options.config ? options.config(issuer) : baseConfig(issuer);
  const resolved = resolveConfig(
    raw,
    [{ file: "policies/test.cedar", text: options.policies ?? BASE_POLICIES }],
    "test-config",
  );
  const store = options.store ?? (await newStore());
  const clock = fixedClock(NOW);
  const logs: string[] = [];
  const capture =
    (level: string): Logger[keyof Logger] =>
    (message, fields) => {
      logs.push(JSON.stringify({ level, message, ...fields }));
    };
  const log: Logger = { info: capture("info"), warn: capture("warn"), error: capture("error") };
  const deps = await buildBrokerDeps(resolved, {
    store,
    signer: await createLocalSigner(generateSigningKey()),
    clock,
    log,
    ...options.adapters,
  });
  const handlers = createHandlers(deps);
  const call: TestBroker["call"] = async (path, body = {}, init = {}) => {
    const text = typeof body === "string" ? body : new URLSearchParams(body).toString();
    const event: HttpEvent = {
      rawPath: `/${path}`,
      headers: init.headers ?? { "content-type": "application/x-www-form-urlencoded" },
      body: text,
      isBase64Encoded: false,
      requestContext: {
        requestId: "req-1",
        http: {
          method: init.method ?? (path === "jwks" || path === "metadata" ? "GET" : "POST"),
          path: `/${path}`,
          sourceIp: init.sourceIp ?? "127.0.0.1",
        },
      },
    };
    const result = await handlers[path](event);
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown>, result };
  };
  return {
    deps,
    store,
    issuer,
    clock,
    resolved,
    logs,
    call,
    exchange: (token, extra = {}, sourceIp) =>
      call(
        "token",
        {
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: token,
          subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
          scope: "read-reports",
          ...extra,
        },
        sourceIp ? { sourceIp } : {},
      ),
  };
}
