// Load against the real `credbroker dev` (`node bin/credbroker.js dev` in a child process, persistent
// dynalite in a temp data dir, the STS/IAM fixture for aws-sts grants, its own sweep every second), reached
// only over HTTP: dev tokens from its issuer, exchanges, introspections and self-revocations. 2,000 token
// requests at concurrency 50 in two bursts, timed so the first burst's 60-second grants start to expire
// halfway through the second: the sweep expires them while the second burst issues and releases. Then
// Ctrl-C (exit 0), and dev restarted on the same data dir without its sweep, so the state read holds still:
// a last sweep by the admin CLI through the exports dev printed, and the table read over the wire. No error
// but the deliberate denials, one grant per 200, one audit event per request, no grant moved twice, no
// grant active past its expiry, no secret in any output line or DynamoDB item.
import { rm } from "node:fs/promises";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoClientFromEnv, storeFromEnv } from "../../lib/cli/env.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import {
  type SecretsManagerFixture,
  startSecretsManagerFixture,
} from "../fixtures/secrets-manager-server.ts";
import { TOKEN_EXCHANGE_FORM } from "../security/dev-harness.ts";
import { allGrants } from "../security/helpers.ts";
import { type DevProcess, runCli, startDevProcess } from "../support/dev-process.ts";

const TOTAL = Number(process.env["CREDBROKER_LOAD_REQUESTS"] ?? 2000);
const CONCURRENCY = Number(process.env["CREDBROKER_LOAD_CONCURRENCY"] ?? 50);
const SWEEP_INTERVAL_SECONDS = 1;
// The jwt provider's minimum: the shortest grant, so the run can watch grants expire.
const READ_SECONDS = 60;

let aws: AwsQueryServer;
let sm: SecretsManagerFixture;
/** The demo's secret task (CONTRACT §15), served by the Secrets Manager stand-in and rotated after use. */
const DEMO_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-AbCdEf";
const env = () => ({ ...aws.env(), AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint });
let dev: DevProcess | undefined;
let restarted: DevProcess | undefined;

/** Ctrl-C to every dev process still running; each must exit 0 (stop() is idempotent). */
async function stopAll() {
  for (const p of [dev, restarted])
    if (p) expect(await p.stop(), `dev on ${p.url}`).toEqual({ code: 0, signal: null });
}

beforeAll(async () => {
  aws = await startAwsQueryServer();
  sm = await startSecretsManagerFixture();
  sm.define(DEMO_SECRET, {
    string: JSON.stringify({ api_key: "dd-load-0123456789abcdef" }),
    rotationEnabled: true,
  });
  // Each rotation moves AWSCURRENT a moment after it starts, as a rotation function would.
  sm.rotationDelay(5);
  dev = await startDevProcess({ sweepIntervalSeconds: SWEEP_INTERVAL_SECONDS, env: env() });
});
afterAll(async () => {
  // Stops what an earlier failure left running, and still insists on a clean exit.
  try {
    await stopAll();
  } finally {
    await aws?.close();
    await sm?.close();
    if (dev) await rm(dev.dataDir, { recursive: true, force: true });
  }
});

type Kind = "read" | "deploy" | "disabled" | "publish-no-purpose" | "secret";
const kindOf = (i: number): Kind =>
  (
    [
      "read",
      "read",
      "read",
      "read",
      "read",
      "secret",
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
    extra: { duration_seconds: String(READ_SECONDS) },
  },
  deploy: {
    sub: "repo:acme/web:ref:refs/heads/main",
    claims: { repository: "acme/web", ref: "refs/heads/main" },
    scope: "deploy-web",
    extra: {},
  },
  secret: {
    sub: "repo:acme/web:ref:refs/heads/main",
    claims: { repository: "acme/web", ref: "refs/heads/main" },
    scope: "datadog-key",
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

const sleepUntil = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms - Date.now())));

/** The child's JSON log lines (dev writes audit events as brief text lines, everything else as JSON). */
const jsonLines = (lines: string[]) =>
  lines.flatMap((l) => {
    if (!l.startsWith("{")) return [];
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });

describe("load against credbroker dev (the CLI, in its own process)", () => {
  it(`${TOTAL} token requests at concurrency ${CONCURRENCY} with sweeps and revocations: nothing lost, nothing doubled, nothing leaked`, async () => {
    const d = dev!;
    const started = Date.now();
    const secrets = new Set<string>();
    const statuses = new Map<string, number>();
    const unexpected: string[] = [];
    const delivered = new Map<string, Kind>();
    const readTokens = new Map<string, string>();
    const released: string[] = [];
    const latencies: number[] = [];
    let releaseCalls = 0;
    let introspections = 0;
    let firstExpiryMs = Number.POSITIVE_INFINITY;

    let base = d.url;
    const post = async (path: string, body: string, type = "application/x-www-form-urlencoded") => {
      const res = await fetch(`${base}${path}`, { method: "POST", headers: { "content-type": type }, body });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const introspect = async (i: number, token: string, active: boolean, grantId: string) => {
      introspections++;
      const r = await post("/introspect", new URLSearchParams({ token }).toString());
      if (r.status !== 200 || r.body["active"] !== active || (active && r.body["jti"] !== grantId))
        unexpected.push(`${i} introspect ${r.status} ${JSON.stringify(r.body)} (expected active ${active})`);
    };

    async function one(i: number) {
      const kind = kindOf(i);
      const s = SUBJECTS[kind];
      const minted = await post(
        "/dev/issuer/token",
        JSON.stringify({ sub: s.sub, claims: s.claims }),
        "application/json",
      );
      const token = minted.body["token"];
      if (minted.status !== 200 || typeof token !== "string") {
        unexpected.push(`${i} dev issuer ${minted.status} ${JSON.stringify(minted.body)}`);
        return;
      }
      secrets.add(token);
      const t0 = performance.now();
      const res = await post("/token", TOKEN_EXCHANGE_FORM(token, s.scope, s.extra));
      latencies.push(performance.now() - t0);
      const key = `${kind}:${res.status}`;
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      const expected = kind === "read" || kind === "deploy" || kind === "secret" ? 200 : 403;
      if (res.status !== expected) unexpected.push(`${i} ${key} ${JSON.stringify(res.body)}`);
      if (res.status !== 200) return;
      const grantId = res.body["grant_id"] as string;
      if (delivered.has(grantId)) unexpected.push(`${i} grant ${grantId} handed out twice`);
      delivered.set(grantId, kind);
      const accessToken = res.body["access_token"] as string;
      secrets.add(accessToken);
      const creds = res.body["credentials"] as Record<string, string> | undefined;
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
            token: kind === "read" ? accessToken : grantId,
            subject_token: token,
          }).toString(),
        );
        if (r.status !== 200) unexpected.push(`${i} release ${r.status}`);
        else released.push(grantId);
        if (kind === "read") await introspect(i, accessToken, false, grantId);
        return;
      }
      if (kind === "read") {
        readTokens.set(grantId, accessToken);
        firstExpiryMs = Math.min(firstExpiryMs, Date.parse(res.body["expires_at"] as string));
        if (i % 5 === 0) await introspect(i, accessToken, true, grantId);
      }
    }

    const burst = async (from: number, to: number) => {
      let next = from;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < to) {
            const i = next++;
            try {
              await one(i);
            } catch (err) {
              unexpected.push(`${i} threw ${(err as Error).message}`);
            }
          }
        }),
      );
      return (performance.now() - t0) / 1000;
    };

    const half = Math.floor(TOTAL / 2);
    const firstS = await burst(0, half);
    // The second burst is timed so the first burst's read grants start to expire halfway through it, and
    // the dev sweep expires them under load; the last sweep waits for the first expiry in any case
    // (expires_at is in whole seconds, hence the second).
    if (!Number.isFinite(firstExpiryMs)) unexpected.push("no read grant outlived the first burst");
    const firstDueMs = Number.isFinite(firstExpiryMs) ? firstExpiryMs + 1000 : Date.now();
    const waitFrom = Date.now();
    await sleepUntil(firstDueMs - (firstS * 1000) / 2);
    const waitS = (Date.now() - waitFrom) / 1000;
    const secondS = await burst(half, TOTAL);
    const elapsedS = firstS + secondS;
    const loadEndedMs = Date.now();
    await sleepUntil(firstDueMs);

    // Ctrl-C with the sweep still at work: a clean exit. Restarted without a sweep, the table holds still
    // while it is read.
    const firstStop = await d.stop();
    // The dev server's own sweeps: it logs a run that changed something, and warns when one fails.
    const sweeps = jsonLines(d.lines).filter((l) => l["message"] === "sweep");
    latencies.sort((a, b) => a - b);
    const figures = {
      requests: TOTAL,
      concurrency: CONCURRENCY,
      seconds: Number(elapsedS.toFixed(1)),
      requestsPerSecond: Math.round(TOTAL / elapsedS),
      p50ms: Math.round(percentile(latencies, 50)),
      p99ms: Math.round(percentile(latencies, 99)),
      maxms: Math.round(latencies[latencies.length - 1]!),
      waitSeconds: Number(waitS.toFixed(1)),
      sweeps: sweeps.length,
      releases: releaseCalls,
      introspections,
      statuses: Object.fromEntries([...statuses].sort()),
    };
    console.log(`load figures: ${JSON.stringify(figures)}`);
    expect(firstStop).toEqual({ code: 0, signal: null });
    expect(d.lines).toContain("credbroker dev: stopping");
    restarted = await startDevProcess({ sweepIntervalSeconds: 0, env: env(), restart: d });
    const r = restarted;
    expect(r.exports).toEqual(d.exports);
    base = r.url;

    // A last sweep by hand, as an operator would run it in another shell with the exports dev printed.
    const adminEnv = { ...env(), ...r.exports };
    const sweepFrom = Date.now();
    const adminSweep = await runCli(["sweep", "--json"], adminEnv);
    expect(adminSweep.code, adminSweep.stderr).toBe(0);
    const finalSweep = JSON.parse(adminSweep.stdout) as { errors: number; complete: boolean };
    expect(finalSweep).toMatchObject({ errors: 0, complete: true });

    // No error other than deliberate denials; no failed sweep run, no warning or error from the broker.
    expect(unexpected).toEqual([]);
    const logged = jsonLines([...d.lines, ...r.lines]);
    for (const s of sweeps) expect((s["summary"] as { errors: number }).errors).toBe(0);
    expect(logged.filter((l) => l["level"] !== "info")).toEqual([]);

    // Every 200 has exactly one grant; no grant exists without a 200. Read over the wire, as admin commands do.
    const store = storeFromEnv(undefined, r.exports);
    const grants = await allGrants(store);
    const readAt = Date.now();
    const byStatus: Record<string, number> = {};
    for (const g of grants) byStatus[g.status] = (byStatus[g.status] ?? 0) + 1;
    expect(grants.length).toBe(delivered.size);
    for (const g of grants) expect(delivered.has(g.grantId)).toBe(true);
    expect(grants.filter((g) => g.status === "issuing" || g.status === "failed")).toEqual([]);

    // One token audit event per request, with the outcome the caller saw.
    const audit: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listAudit({
        sinceMs: started - 60_000,
        untilMs: readAt + 3_600_000,
        ...(cursor ? { cursor } : {}),
      });
      audit.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    const expiredUnderLoad = audit.filter(
      (e) => e.outcome === "expire" && Date.parse(e.time) <= loadEndedMs,
    ).length;
    console.log(
      `grants by final status: ${JSON.stringify(byStatus)}; expired by dev's sweep before the load ended: ${expiredUnderLoad}`,
    );
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

    // Expiry under the sweep: grants expired during the run, none before its time, and after the last
    // sweep none is active past its expiry (expiresAt is in whole seconds, hence the second).
    expect(grants.some((g) => g.status === "expired")).toBe(true);
    for (const g of grants.filter((g) => g.status === "expired"))
      expect(Date.parse(g.expiresAt), `grant ${g.grantId}`).toBeLessThanOrEqual(readAt);
    const overdue = grants.filter(
      (g) => g.status === "active" && Date.parse(g.expiresAt) + 1000 <= sweepFrom,
    );
    expect(overdue).toEqual([]);
    expect(grants.some((g) => g.status === "revoked")).toBe(true);

    // Introspection agrees with the final state: an expired read grant's token is no longer active.
    const expiredReads = grants
      .filter((g) => g.status === "expired" && readTokens.has(g.grantId))
      .slice(0, 50);
    expect(expiredReads.length).toBeGreaterThan(0);
    await Promise.all(expiredReads.map((g) => introspect(-1, readTokens.get(g.grantId)!, false, g.grantId)));
    expect(unexpected).toEqual([]);

    // Every version of the demo secret, the ones rotations wrote included, is a secret too.
    const datadog = sm.entries.get(DEMO_SECRET)!;
    for (const v of datadog.versions.values()) secrets.add(JSON.parse(v.string!).api_key);
    expect(sm.rotationsStarted(DEMO_SECRET)).toBeGreaterThan(0);
    // Secrets: no raw subject token, issued JWT, secret value, access key or session token in any output line
    // (dev's and the admin sweep's) or DynamoDB item.
    const client = dynamoClientFromEnv(r.exports);
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await client.send(
        new ScanCommand({
          TableName: r.exports["CREDBROKER_TABLE"],
          ...(start ? { ExclusiveStartKey: start as never } : {}),
        }),
      );
      items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    client.destroy();
    const outputLines = [...d.lines, ...r.lines, adminSweep.stdout, adminSweep.stderr];
    const haystacks = [...outputLines, ...items.map((i) => JSON.stringify(i))];
    const leaks: string[] = [];
    for (const secret of secrets) {
      const signature = secret.split(".")[2];
      for (const text of haystacks) {
        if (text.includes(secret) || (signature && signature.length > 20 && text.includes(signature)))
          leaks.push(secret.slice(0, 12));
      }
    }
    console.log(
      `secrets scan: ${secrets.size} secrets against ${outputLines.length} output lines and ${items.length} DynamoDB items`,
    );
    expect(leaks).toEqual([]);
  });

  it("every dev process stops on Ctrl-C (SIGINT) with exit code 0", async () => {
    // Whatever the load test got to: the first dev if it failed early, the restarted one otherwise.
    const started = [dev, restarted].filter((p) => p !== undefined);
    expect(started.length).toBeGreaterThan(0);
    await stopAll();
    for (const p of started) expect(p.lines).toContain("credbroker dev: stopping");
  });
});
