// `npm run screenshots`: PNGs of the HTML report and the console for the README (docs/images/), taken in
// headless Chromium (CREDBROKER_CHROMIUM, default /usr/bin/chromium) against a throwaway in-memory
// `credbroker dev` on the demo config. Its table gets two weeks of made-up history (audit events written
// directly, so the charts have a shape) and then real traffic through the broker: grants, denials, a
// release and a console revoke. Everything stays on loopback; nothing is left running.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { reportCommand } from "../lib/cli/report.ts";
import type { AuditEvent } from "../lib/core/audit.ts";
import { silentLogger } from "../lib/core/logger.ts";
import { startDev } from "../lib/local/dev-server.ts";

const OUT = resolve("docs/images");
const DAY = 86_400_000;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const dataDir = await mkdtemp(join(tmpdir(), "credbroker-screens-"));
const port = await freePort();
const dev = await startDev({
  configPath: resolve("examples/broker.config.yaml"),
  port,
  dataDir,
  inMemory: true,
  sweepIntervalSeconds: 0,
  log: silentLogger,
});
const browser = await chromium.launch({
  executablePath: process.env["CREDBROKER_CHROMIUM"] ?? "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

try {
  const store = dev.deps.store;
  const now = Date.now();
  // Made-up history: a deterministic pattern over 14 days, so the charts are not a single point.
  let n = 0;
  const past = (
    ms: number,
    e: Omit<AuditEvent, "eventId" | "time" | "kind"> & { kind?: AuditEvent["kind"] },
  ) =>
    store.putAudit({
      kind: "token",
      ...e,
      eventId: `history-${String(++n).padStart(5, "0")}`,
      time: new Date(ms).toISOString(),
    });
  for (let d = 14; d >= 1; d--) {
    const day = now - d * DAY;
    const issued = 6 + ((d * 7) % 5);
    for (let i = 0; i < issued; i++) {
      const workload = i % 3 === 0 ? "legacy-cron" : "reports-job";
      await past(day + i * 600_000, {
        outcome: "issue",
        workload,
        task: "read-reports",
        durationSeconds: 300,
        grantId: `h${d}-${i}`,
      });
      await past(day + i * 600_000 + 120_000, {
        outcome: i % 2 === 0 ? "release" : "expire",
        kind: i % 2 === 0 ? "revoke" : "sweep",
        workload,
        task: "read-reports",
        reasons: [i % 2 === 0 ? "released" : "expired"],
        grantId: `h${d}-${i}`,
      });
    }
    for (let i = 0; i < (d % 4) + 1; i++)
      await past(day + 3_600_000 * (i + 1), {
        outcome: "deny",
        workload: "reports-job",
        task: "publish-reports",
        errorCode: "policy_denied",
        reasons: ["no policy permits this request"],
      });
  }

  // Real traffic through the broker.
  const mint = async (issuer: "issuer" | "approvers", sub: string, claims: Record<string, string> = {}) => {
    const minted = await fetch(`${dev.url}/dev/${issuer}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub, claims }),
    });
    return ((await minted.json()) as { token: string }).token;
  };
  const exchange = async (
    sub: string,
    task: string,
    claims: Record<string, string> = {},
    extra: Record<string, string> = {},
  ) => {
    const res = await fetch(`${dev.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: await mint("issuer", sub, claims),
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: task,
        purpose: "nightly report",
        ...extra,
      }),
    });
    return (await res.json()) as { grant_id?: string; approval_id?: string };
  };
  for (let i = 0; i < 4; i++) await exchange("repo:acme/reports:ref:refs/heads/main", "read-reports");
  await exchange("system:serviceaccount:batch:legacy-cron", "read-reports");
  await exchange("repo:acme/reports:ref:refs/heads/main", "publish-reports");
  await exchange("agent:old-7", "read-reports");
  await exchange("repo:evil/fork:ref:refs/heads/main", "read-reports");
  const victim = await exchange("system:serviceaccount:batch:legacy-cron", "read-reports");
  // The ops agent asks for the production rotation, alice (sre) approves, and the agent collects its grant.
  const asked = await exchange("agent:ops", "rotate-prod-db");
  let approvedGrant: string | undefined;
  if (asked.approval_id) {
    await fetch(`${dev.url}/approvals/${asked.approval_id}`, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        authorization: `Bearer ${await mint("approvers", "alice", { groups: "sre", email: "alice@acme.example" })}`,
      },
      body: new URLSearchParams({ decision: "approve", reason: "ticket OPS-7" }),
    });
    approvedGrant = (await exchange("agent:ops", "rotate-prod-db", {}, { approval_id: asked.approval_id }))
      .grant_id;
  }

  await mkdir(OUT, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const page = await context.newPage();

  // The HTML report, as `credbroker report --format html --out` writes it.
  const reportPath = join(dataDir, "report.html");
  const quiet = { out: () => {}, err: () => {}, env: {} };
  await reportCommand(
    ["--config", dev.configPath, "--format", "html", "--out", reportPath],
    quiet,
    async () => store,
  );
  await page.goto(`file://${reportPath}`);
  await page.waitForSelector('[data-chart="grants-by-day"] canvas');
  await page.screenshot({
    path: join(OUT, "report.png"),
    fullPage: true,
    clip: { x: 0, y: 0, width: 1280, height: 1500 },
  });
  // Below the fold of the first: grant activity by task (granted and lived durations), denials, exceptions
  // on their timeline and approvals.
  await page.locator("#activity table").nth(1).scrollIntoViewIfNeeded();
  await page.locator("#exceptions").screenshot({ path: join(OUT, "report-exceptions.png") });

  // The console, signed in with its token.
  await page.goto(dev.consoleUrl);
  await page.waitForSelector('[data-chart="grants-by-day"] canvas');
  await page.screenshot({ path: join(OUT, "console-overview.png") });
  await page.goto(`${dev.url}/console/grants?status=active`);
  await page.screenshot({ path: join(OUT, "console-grants.png") });
  if (victim.grant_id) {
    await page.goto(`${dev.url}/console/grants/${victim.grant_id}`);
    await page.getByLabel(/Reason/).fill("legacy-cron is being retired (SEC-1234)");
    await page.getByRole("button", { name: "Revoke" }).click();
    await page.waitForURL(/revoked=1/);
    await page.screenshot({ path: join(OUT, "console-grant.png") });
  }
  if (approvedGrant) {
    await page.goto(`${dev.url}/console/grants/${approvedGrant}`);
    await page.screenshot({ path: join(OUT, "console-grant-approved.png"), fullPage: true });
  }
  await page.goto(`${dev.url}/console/audit`);
  await page.screenshot({ path: join(OUT, "console-audit.png") });
  process.stdout.write(`screenshots written to ${OUT}\n`);
} finally {
  await browser.close();
  await dev.close();
  await rm(dataDir, { recursive: true, force: true });
}
