// `credbroker console` over a dynalite table, driven in real headless Chromium: the token gate, the Host
// check, each view, filtering and paging grants, a grant's page, revoking through the UI (CSRF-protected),
// the live audit, and hostile workload text rendered as text.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { consoleCommand } from "../../lib/cli/console.ts";
import { grantsCommand } from "../../lib/cli/grants.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { capture } from "../governance/capture.ts";
import { seedStore, writeConfig } from "../governance/seed.ts";
import { closeSharedDynamo, sharedDynamo } from "../support/broker.ts";
import { launchBrowser, type TestBrowser } from "./browser.ts";

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;
const isoS = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

let store: DynamoGrantStore;
let browser: TestBrowser;
let url: string;
let origin: string;
const stop = new AbortController();
let stopped: Promise<void>;
const io = capture();

function activeGrant(id: string, workload: string, task: string, ageMs: number, purpose = ""): Grant {
  const issued = Date.now() - ageMs;
  return {
    grantId: id,
    workload,
    subject: `sub-of-${workload}`,
    issuer: "test",
    task,
    provider: "jwt",
    status: "issuing",
    issuedAt: isoS(issued),
    expiresAt: isoS(issued + 3_600_000),
    policyIds: ["reports-readers"],
    sourceIp: "127.0.0.1",
    purpose,
    decisionId: `d-${id}`,
    durationSeconds: 3600,
    configVersion: "v1",
    subjectTokenSha256: "0".repeat(64),
  };
}

async function putActive(g: Grant): Promise<void> {
  await store.createGrant(g, Date.parse(g.expiresAt));
  await store.transition(g.grantId, "issuing", "active");
  await store.putAudit({
    eventId: `ev-${g.grantId}`,
    time: new Date(Date.parse(g.issuedAt)).toISOString(),
    kind: "token",
    outcome: "issue",
    grantId: g.grantId,
    workload: g.workload,
    task: g.task,
    purpose: g.purpose,
  });
}

/** A raw request, so the Host header can be anything (fetch may not set it). */
function raw(path: string, headers: Record<string, string>, method = "GET", body = ""): Promise<number> {
  const u = new URL(path, origin);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: u.port, path: u.pathname + u.search, method, headers },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  const dynamo = await sharedDynamo();
  const table = `console${process.pid}`;
  await ensureTable(dynamo.client, table);
  store = new DynamoGrantStore({ client: dynamo.client, tableName: table });
  await seedStore(store);
  for (let i = 0; i < 30; i++)
    await putActive(
      activeGrant(`g-web-${String(i).padStart(2, "0")}`, "web-ci", "read-reports", (i + 1) * 60_000),
    );
  await putActive(activeGrant("g-legacy", "legacy-cron", "deploy-web", 30_000));
  await putActive(activeGrant("g-hostile", HOSTILE, "read-reports", 20_000, HOSTILE));
  const env = {
    CREDBROKER_CONFIG: await writeConfig(),
    CREDBROKER_TABLE: table,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
  };
  Object.assign(io.env, env);
  let ready!: (u: string) => void;
  const started = new Promise<string>((r) => {
    ready = r;
  });
  stopped = consoleCommand(["--port", "0", "--no-open"], io, { signal: stop.signal, onReady: ready });
  url = await Promise.race([started, stopped.then(() => Promise.reject(new Error("console stopped")))]);
  origin = new URL(url).origin;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  stop.abort();
  await stopped;
  await closeSharedDynamo();
});

async function signedIn() {
  const p = await browser.page();
  await p.page.goto(url);
  return p;
}

describe("credbroker console", () => {
  it("prints a loopback URL with a token of at least 128 random bits", () => {
    expect(io.stdout()).toContain(url);
    const u = new URL(url);
    expect(u.hostname).toBe("127.0.0.1");
    expect(Buffer.from(u.searchParams.get("token")!, "base64url").length).toBeGreaterThanOrEqual(16);
  });

  it("answers 401 without the token or its cookie, and for a wrong token", async () => {
    const host = `127.0.0.1:${new URL(origin).port}`;
    expect(await raw("/", { host })).toBe(401);
    expect(await raw("/grants", { host })).toBe(401);
    expect(await raw("/assets/console.js", { host })).toBe(401);
    expect(await raw("/?token=not-the-token", { host })).toBe(401);
    expect(await raw(new URL(url).pathname + new URL(url).search, { host })).toBe(303);
  });

  it("answers 401 to a foreign Host even with the token (DNS rebinding)", async () => {
    const port = new URL(origin).port;
    const search = new URL(url).search;
    expect(await raw(`/${search}`, { host: `evil.example:${port}` })).toBe(401);
    expect(await raw(`/${search}`, { host: "127.0.0.1" })).toBe(401);
    expect(await raw(`/${search}`, { host: `localhost:${port}` })).toBe(303);
  });

  it("sets an HttpOnly, SameSite=Strict session cookie on the first visit and drops the token from the address", async () => {
    const { page } = await signedIn();
    expect(page.url()).toBe(`${origin}/`);
    const cookies = await page.context().cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ httpOnly: true, sameSite: "Strict" });
    expect(cookies[0]!.value).not.toBe(new URL(url).searchParams.get("token"));
    await page.close();
  });

  it("loads each view without errors", async () => {
    const { page, errors } = await signedIn();
    await page.waitForSelector('[data-chart="grants-by-day"] canvas');
    expect(await page.textContent("h1")).toBe("Overview");
    expect(await page.locator("#verdicts .card").count()).toBeGreaterThan(5);
    for (const [link, heading] of [
      ["Grants", "Grants"],
      ["Audit", "Audit"],
      ["Approvals", "Approvals (pending)"],
      ["Overview", "Overview"],
    ] as const) {
      await page.getByRole("link", { name: link, exact: true }).click();
      await expect.poll(() => page.textContent("h1")).toBe(heading);
      expect(await page.getAttribute(`nav a[aria-current="page"]`, "href")).toBeTruthy();
    }
    await page.goto(`${origin}/approvals`);
    expect(await page.textContent("#approvals-empty")).toContain("No approvals configured");
    expect(errors).toEqual([]);
    await page.close();
  });

  it("filters grants by status, workload and task, and pages through them", async () => {
    const { page } = await signedIn();
    await page.goto(`${origin}/grants`);
    await page.selectOption("#f-status", "active");
    await page.fill("#f-workload", "web-ci");
    await page.fill("#f-task", "read-reports");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/status=active/);
    const ids = () =>
      page.$$eval("#grants-table tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
    // The workload index is newest first; a filtered page reads further into it.
    expect(await ids()).toEqual(Array.from({ length: 30 }, (_, i) => `g-web-${String(i).padStart(2, "0")}`));
    // Unfiltered, the console pages through the index 25 at a time: 30 live grants and 2 older seeded ones.
    await page.goto(`${origin}/grants?workload=web-ci`);
    const first = await ids();
    expect(first).toHaveLength(25);
    expect(first[0]).toBe("g-web-00");
    await page.click("#next-page");
    const second = await ids();
    expect(second.slice(0, 5)).toEqual(["g-web-25", "g-web-26", "g-web-27", "g-web-28", "g-web-29"]);
    expect(second).toHaveLength(7);
    expect(await page.locator("#next-page").count()).toBe(0);
    await page.goto(`${origin}/grants?task=deploy-web&status=active`);
    expect(await ids()).toEqual(["g-legacy"]);
    await page.close();
  });

  it("opens a grant with its audit trail and revokes it through the form, audited as the console", async () => {
    const { page, errors } = await signedIn();
    await page.goto(`${origin}/grants?workload=legacy-cron`);
    await page.getByRole("link", { name: "g-legacy", exact: true }).click();
    expect(await page.textContent("#grant-status")).toBe("active");
    expect(
      await page.$$eval("#audit-table tbody tr", (trs) => trs.map((t) => t.children[1]!.textContent)),
    ).toEqual(["issue"]);
    await page.getByLabel(/Reason/).fill("suspicious use, INC-42");
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.waitForURL(/revoked=1/);
    expect(await page.textContent("#grant-status")).toBe("revoked");
    expect(await page.textContent("[role=status]")).toContain("Revoked");
    const trail = await page.$$eval("#audit-table tbody tr", (trs) =>
      trs.map((t) => [t.children[1]!.textContent, t.children[5]!.textContent, t.children[6]!.textContent]),
    );
    expect(trail[0]).toEqual(["revoke", "console", "suspicious use, INC-42"]);
    expect(errors).toEqual([]);
    await page.close();

    const show = capture();
    await grantsCommand(["show", "g-legacy", "--json"], show, async () => ({ store }));
    expect(JSON.parse(show.stdout())).toMatchObject({ status: "revoked", reason: "suspicious use, INC-42" });
    const events = await store.listAudit({
      sinceMs: Date.now() - 3_600_000,
      untilMs: Date.now(),
      workload: "legacy-cron",
    });
    expect(events.items.filter((e) => e.outcome === "revoke")).toEqual([
      expect.objectContaining({
        grantId: "g-legacy",
        actor: "console",
        kind: "admin",
        reasons: ["suspicious use, INC-42"],
      }),
    ]);
  });

  it("refuses a revoke without the session's CSRF token, or from another origin", async () => {
    const { page } = await signedIn();
    const cookie = (await page.context().cookies())[0]!;
    const host = `127.0.0.1:${new URL(origin).port}`;
    const headers = {
      host,
      cookie: `${cookie.name}=${cookie.value}`,
      "content-type": "application/x-www-form-urlencoded",
    };
    expect(await raw("/grants/g-web-05/revoke", headers, "POST", "reason=x")).toBe(403);
    expect(await raw("/grants/g-web-05/revoke", headers, "POST", "reason=x&csrf=guess")).toBe(403);
    await page.goto(`${origin}/grants/g-web-05`);
    const csrf = await page.getAttribute('input[name="csrf"]', "value");
    expect(
      await raw(
        "/grants/g-web-05/revoke",
        { ...headers, origin: "http://evil.example" },
        "POST",
        `reason=x&csrf=${csrf}`,
      ),
    ).toBe(403);
    expect((await store.getGrant("g-web-05"))?.status).toBe("active");
    await page.close();
  });

  it("shows a new audit event at the top without a reload", async () => {
    const { page } = await signedIn();
    await page.goto(`${origin}/audit`);
    const marker = await page.evaluate(() => {
      (window as unknown as { __same: boolean }).__same = true;
      return true;
    });
    expect(marker).toBe(true);
    await store.putAudit({
      eventId: "ev-live-1",
      time: new Date().toISOString(),
      kind: "token",
      outcome: "deny",
      workload: "web-ci",
      task: "admin-api",
      errorCode: "policy_denied",
      reasons: ["no policy permits this request"],
    });
    await page.waitForSelector('#audit-table tbody tr[data-event-id="ev-live-1"]', { timeout: 15_000 });
    expect(await page.$eval("#audit-table tbody tr", (tr) => tr.getAttribute("data-event-id"))).toBe(
      "ev-live-1",
    );
    // The same document: no navigation happened.
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true);
    await page.close();
  });

  it("keeps the overview live: a new denial shows in its numbers without a reload", async () => {
    const { page, errors } = await signedIn();
    await page.waitForSelector('[data-chart="grants-by-day"] canvas');
    const denied = async () =>
      Number(/(\d+) denied requests/.exec((await page.textContent("#denials")) ?? "")?.[1]);
    const before = await denied();
    await page.evaluate(() => {
      (window as unknown as { __same: boolean }).__same = true;
    });
    await store.putAudit({
      eventId: "ev-live-2",
      time: new Date().toISOString(),
      kind: "token",
      outcome: "deny",
      workload: "web-ci",
      task: "admin-api",
      errorCode: "policy_denied",
      reasons: ["no policy permits this request"],
    });
    await expect.poll(denied, { timeout: 25_000, interval: 500 }).toBe(before + 1);
    expect(await page.evaluate(() => (window as unknown as { __same?: boolean }).__same)).toBe(true);
    expect(await page.locator('[data-chart="grants-by-day"] canvas').count()).toBe(1);
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it("renders a workload name and purpose holding <script> as text", async () => {
    const { page, errors } = await signedIn();
    await page.goto(`${origin}/grants/g-hostile`);
    await page.goto(`${origin}/grants?status=active`);
    await page.goto(`${origin}/audit`);
    await page.waitForTimeout(2500); // one live poll brings the same event through the JSON path too
    expect(await page.textContent("#audit-table")).toContain(HOSTILE);
    await page.goto(`${origin}/grants/${encodeURIComponent("g-hostile")}`);
    expect(await page.textContent("dl.facts")).toContain(HOSTILE);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
