// The console's overview: what is true now (active grants by provider and task, pending revocations and
// approvals, the last sweep) read by key, and the report part read by the day. In real Chromium, the
// overview shows the active-grant count that `credbroker grants list --status active` gives.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { consoleCommand } from "../../lib/cli/console.ts";
import { grantsCommand } from "../../lib/cli/grants.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import { overviewModel } from "../../lib/console/server/overview.ts";
import type { Grant } from "../../lib/core/grant.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { capture } from "../governance/capture.ts";
import { seedStore, writeConfig } from "../governance/seed.ts";
import { closeSharedDynamo, sharedDynamo } from "../support/broker.ts";
import { launchBrowser, type TestBrowser } from "./browser.ts";

const isoS = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

let store: DynamoGrantStore;
let browser: TestBrowser;
let url: string;
let configPath: string;
const stop = new AbortController();
let stopped: Promise<void>;
const io = capture();

function grant(id: string, workload: string, task: string, provider: Grant["provider"]): Grant {
  const issued = Date.now() - 60_000;
  return {
    grantId: id,
    workload,
    subject: `sub-of-${workload}`,
    issuer: "test",
    task,
    provider,
    status: "issuing",
    issuedAt: isoS(issued),
    expiresAt: isoS(issued + 3_600_000),
    policyIds: ["reports-readers"],
    sourceIp: "127.0.0.1",
    purpose: "",
    decisionId: `d-${id}`,
    durationSeconds: 3600,
    configVersion: "v1",
    subjectTokenSha256: "0".repeat(64),
  };
}

async function put(g: Grant, end?: "revoked-pending" | "revoked" | "failed"): Promise<void> {
  await store.createGrant(g, Date.parse(g.expiresAt));
  if (end === "failed") {
    await store.transition(g.grantId, "issuing", "failed", { dueAtMs: null });
    return;
  }
  await store.transition(g.grantId, "issuing", "active");
  if (end === "revoked-pending")
    await store.transition(g.grantId, "active", "revoked", {
      revokedAt: isoS(Date.now()),
      reason: "incident",
      revocationPending: true,
      dueAtMs: Date.now(),
    });
  if (end === "revoked")
    await store.transition(g.grantId, "active", "revoked", {
      revokedAt: isoS(Date.now()),
      reason: "x",
      dueAtMs: null,
    });
}

beforeAll(async () => {
  const dynamo = await sharedDynamo();
  const table = `overview${process.pid}`;
  await ensureTable(dynamo.client, table);
  store = new DynamoGrantStore({ client: dynamo.client, tableName: table });
  await seedStore(store);
  for (let i = 0; i < 7; i++) await put(grant(`g-web-${i}`, "web-ci", "read-reports", "jwt"));
  for (let i = 0; i < 3; i++) await put(grant(`g-deploy-${i}`, "web-ci", "deploy-web", "aws-sts"));
  await put(grant("g-legacy", "legacy-cron", "read-reports", "jwt"));
  await put(grant("g-pending", "web-ci", "deploy-web", "aws-sts"), "revoked-pending");
  await put(grant("g-revoked", "web-ci", "read-reports", "jwt"), "revoked");
  await put(grant("g-failed", "web-ci", "read-reports", "jwt"), "failed");
  await store.governance.putSweepRun({
    startedAt: new Date(Date.now() - 30_000).toISOString(),
    finishedAt: new Date(Date.now() - 29_000).toISOString(),
    complete: false,
    errors: 2,
    oldestDueAgeSeconds: 41,
    expired: 0,
    revoked: 0,
    daySummaries: 0,
  });
  configPath = await writeConfig();
  Object.assign(io.env, {
    CREDBROKER_CONFIG: configPath,
    CREDBROKER_TABLE: table,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  });
  let ready!: (u: string) => void;
  const started = new Promise<string>((r) => {
    ready = r;
  });
  stopped = consoleCommand(["--port", "0", "--no-open"], io, { signal: stop.signal, onReady: ready });
  url = await Promise.race([started, stopped.then(() => Promise.reject(new Error("console stopped")))]);
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  stop.abort();
  await stopped;
  await closeSharedDynamo();
});

describe("the console's overview", () => {
  it("shows the active-grant count that grants list --status active gives", async () => {
    const out = capture();
    await grantsCommand(["list", "--status", "active", "--json"], out, async () => ({ store }));
    const active = (JSON.parse(out.stdout()) as unknown[]).length;
    expect(active).toBe(11);
    const { page } = await browser.page();
    await page.goto(url);
    expect(await page.locator("#active-grants").textContent()).toBe(String(active));
    expect(await page.locator("#revocations-pending").textContent()).toBe("1");
    expect(await page.locator("#sweep-lag").textContent()).toBe("41 s");
    expect(await page.locator("#sweep-errors").textContent()).toBe("2");
    const byTask = await page.locator("#active-by-task tbody tr").allTextContents();
    expect(byTask).toEqual(["deploy-webaws-sts3", "read-reportsjwt8"]);
    const byProvider = await page.locator("#active-by-provider tbody tr").allTextContents();
    expect(byProvider).toEqual(["aws-sts3", "jwt8"]);
  });

  it("has the same model from day summaries as from every event", async () => {
    const r = await loadConfigFile(configPath);
    const deps = { store, config: r.config, policies: r.policies, configVersion: r.version };
    const nowMs = Date.now();
    const raw = Object.create(store, { governance: { value: undefined } }) as GrantStore;
    const fromEvents = await overviewModel({ ...deps, store: raw }, 30, nowMs);
    // Twice from the store: the first summarises the closed days, the second reads their summaries.
    await overviewModel(deps, 30, nowMs);
    const fromSummaries = await overviewModel(deps, 30, nowMs);
    expect(fromSummaries.report).toEqual(fromEvents.report);
    // The live part does not come from the audit trail at all (the last sweep run is kept beside the summaries).
    expect({ ...fromSummaries.live, lastSweep: null }).toEqual(fromEvents.live);
  });
});
