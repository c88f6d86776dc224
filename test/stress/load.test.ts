// Load against `credbroker dev`: 2,000 token requests at concurrency 50 — jwt and aws-sts grants (STS/IAM
// on the loopback fixture), deliberate denials, self-revocations interleaved, and the sweep running all
// along on a clock running faster than real time so grants expire during the run. Then: no error but
// the deliberate denials, one grant per 200, one audit event per request, no grant moved twice, and no
// secret in any log line or DynamoDB item.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { type DevHarness, startDevHarness, TOKEN_EXCHANGE_FORM } from "../security/dev-harness.ts";
import { allGrants } from "../security/helpers.ts";

const TOTAL = Number(process.env["CREDBROKER_LOAD_REQUESTS"] ?? 2000);
const CONCURRENCY = Number(process.env["CREDBROKER_LOAD_CONCURRENCY"] ?? 50);
// Fast enough that 60 s grants expire during the run, slow enough that no request outlives the 60 s issuing timeout.
const SPEED = Number(process.env["CREDBROKER_LOAD_CLOCK_SPEED"] ?? 4);

const started = Date.now();
const clock = { now: () => started + (Date.now() - started) * SPEED };

let aws: AwsQueryServer;
let h: DevHarness;

beforeAll(async () => {
  aws = await startAwsQueryServer({ now: clock.now });
  const clientConfig = { ...aws.clientConfig, maxAttempts: 3 };
  h = await startDevHarness({
    clock,
    providers: (resolved) =>
      awsProviders(resolved, {
        stsClient: (region) => new STSClient({ ...clientConfig, region }),
        iamClient: new IAMClient(clientConfig),
      }),
  });
});
afterAll(async () => {
  await h?.dev.close();
  await aws?.close();
});

type Kind = "read" | "deploy" | "disabled" | "publish-no-purpose";
const kindOf = (i: number): Kind =>
  (
    [
      "read",
      "read",
      "read",
      "read",
      "read",
      "read",
      "deploy",
      "deploy",
      "disabled",
      "publish-no-purpose",
    ] as const
  )[i % 10]!;
const SUBJECTS: Record<
  Kind,
  { sub: string; claims: Record<string, unknown>; scope: string; extra: Record<string, string> }
> = {
  read: {
    sub: "repo:acme/reports:ref:refs/heads/main",
    claims: {},
    scope: "read-reports",
    extra: { duration_seconds: "60" },
  },
  deploy: {
    sub: "repo:acme/web:ref:refs/heads/main",
    claims: { repository: "acme/web", ref: "refs/heads/main" },
    scope: "deploy-web",
    extra: {},
  },
  disabled: { sub: "agent:old-7", claims: {}, scope: "read-reports", extra: {} },
  "publish-no-purpose": {
    sub: "repo:acme/reports:ref:refs/heads/main",
    claims: {},
    scope: "publish-reports",
    extra: {},
  },
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

describe("load against credbroker dev", () => {
  it(`${TOTAL} token requests at concurrency ${CONCURRENCY} with sweeps and revocations: nothing lost, nothing doubled, nothing leaked`, async () => {
    const secrets = new Set<string>();
    const statuses = new Map<string, number>();
    const unexpected: string[] = [];
    const delivered = new Map<string, Kind>();
    const released: string[] = [];
    const latencies: number[] = [];
    let releaseCalls = 0;

    const post = (path: string, body: string) =>
      fetch(`${h.dev.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body,
      });

    async function one(i: number) {
      const kind = kindOf(i);
      const s = SUBJECTS[kind];
      const token = await h.dev.devIssuer.mint({
        sub: s.sub,
        claims: s.claims,
        audience: "credbroker",
        nowMs: clock.now(),
      });
      secrets.add(token);
      const t0 = performance.now();
      const res = await post("/token", TOKEN_EXCHANGE_FORM(token, s.scope, s.extra));
      latencies.push(performance.now() - t0);
      const body = (await res.json()) as Record<string, unknown>;
      const key = `${kind}:${res.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const expected = kind === "read" || kind === "deploy" ? 200 : 403;
      if (res.status !== expected) unexpected.push(`${i} ${key} ${JSON.stringify(body)}`);
      if (res.status !== 200) return;
      const grantId = body["grant_id"] as string;
      if (delivered.has(grantId)) unexpected.push(`${i} grant ${grantId} handed out twice`);
      delivered.set(grantId, kind);
      secrets.add(body["access_token"] as string);
      const creds = body["credentials"] as Record<string, string> | undefined;
      if (creds) {
        secrets.add(creds["SecretAccessKey"]!);
        secrets.add(creds["SessionToken"]!);
      }
      // Interleaved revocations: every 7th grant is released by its workload right away.
      if (i % 7 === 0) {
        releaseCalls++;
        const r = await post(
          "/revoke",
          new URLSearchParams({
            token: kind === "read" ? (body["access_token"] as string) : grantId,
            subject_token: token,
          }).toString(),
        );
        if (r.status !== 200) unexpected.push(`${i} release ${r.status}`);
        else released.push(grantId);
      }
    }

    // The sweep runs continuously, as the dev server's interval would, but back to back.
    let sweeping = true;
    let sweeps = 0;
    const sweeper = (async () => {
      while (sweeping) {
        await h.dev.sweep();
        sweeps++;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();

    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < TOTAL) {
          const i = next++;
          try {
            await one(i);
          } catch (err) {
            unexpected.push(`${i} threw ${(err as Error).message}`);
          }
        }
      }),
    );
    const elapsedS = (performance.now() - t0) / 1000;
    sweeping = false;
    await sweeper;
    await h.dev.sweep();

    latencies.sort((a, b) => a - b);
    const figures = {
      requests: TOTAL,
      concurrency: CONCURRENCY,
      seconds: Number(elapsedS.toFixed(1)),
      requestsPerSecond: Math.round(TOTAL / elapsedS),
      p50ms: Math.round(percentile(latencies, 50)),
      p99ms: Math.round(percentile(latencies, 99)),
      maxms: Math.round(latencies[latencies.length - 1]!),
      sweeps,
      releases: releaseCalls,
      statuses: Object.fromEntries([...statuses].sort()),
    };
    console.log(`load figures: ${JSON.stringify(figures)}`);

    // No error other than deliberate denials.
    expect(unexpected).toEqual([]);

    // Every 200 has exactly one grant; no grant exists without a 200.
    const grants = await allGrants(h.dev.deps.store);
    const byStatus: Record<string, number> = {};
    for (const g of grants) byStatus[g.status] = (byStatus[g.status] ?? 0) + 1;
    console.log(`grants by final status: ${JSON.stringify(byStatus)}`);
    expect(grants.length).toBe(delivered.size);
    for (const g of grants) expect(delivered.has(g.grantId)).toBe(true);
    expect(grants.filter((g) => g.status === "issuing" || g.status === "failed")).toEqual([]);

    // One token audit event per request, with the outcome the caller saw.
    const audit: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await h.dev.deps.store.listAudit({
        sinceMs: started - 60_000,
        untilMs: clock.now() + 3_600_000,
        ...(cursor ? { cursor } : {}),
      });
      audit.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    const tokenEvents = audit.filter((e) => e.kind === "token");
    expect(tokenEvents.length).toBe(TOTAL);
    expect(tokenEvents.filter((e) => e.outcome === "issue").length).toBe(delivered.size);
    expect(tokenEvents.filter((e) => e.outcome === "deny").length).toBe(TOTAL - delivered.size);

    // No grant moved twice: at most one ending event per grant, and it matches the grant's status.
    const endings = new Map<string, string[]>();
    for (const e of audit) {
      if (!e.grantId || e.kind === "token") continue;
      if (!["expire", "release", "revoke", "fail"].includes(e.outcome)) continue;
      if (e.reasons?.some((r) => r.startsWith("revocation list full"))) continue;
      endings.set(e.grantId, [...(endings.get(e.grantId) ?? []), e.outcome]);
    }
    for (const [id, outcomes] of endings) expect(outcomes, `grant ${id}`).toHaveLength(1);
    for (const g of grants) {
      const outcomes = endings.get(g.grantId) ?? [];
      if (g.status === "active") expect(outcomes).toEqual([]);
      if (g.status === "expired") expect(outcomes).toEqual(["expire"]);
      if (g.status === "revoked") expect(outcomes).toEqual(["release"]);
    }
    // Released grants that were still active when released are revoked; some expired first.
    for (const id of released)
      expect(["revoked", "expired"]).toContain(grants.find((g) => g.grantId === id)?.status);
    // On the fast clock a long enough run outlives the 60 s read grants: some must have expired.
    if (elapsedS * SPEED > 90) expect(grants.some((g) => g.status === "expired")).toBe(true);
    expect(grants.some((g) => g.status === "revoked")).toBe(true);

    // Secrets: no raw subject token, issued JWT, secret access key or session token in any log line or item.
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await h.dev.dynamo.client.send(
        new ScanCommand({
          TableName: h.dev.tableName,
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    const haystacks = [...h.logs, ...items.map((i) => JSON.stringify(i))];
    const leaks: string[] = [];
    for (const secret of secrets) {
      const signature = secret.split(".")[2];
      for (const text of haystacks) {
        if (text.includes(secret) || (signature && signature.length > 20 && text.includes(signature)))
          leaks.push(secret.slice(0, 12));
      }
    }
    console.log(
      `secrets scan: ${secrets.size} secrets against ${h.logs.length} log lines and ${items.length} DynamoDB items`,
    );
    expect(leaks).toEqual([]);
  });
});
