// `credbroker dev` serves the console of its own table on its own port under /console/, behind the same
// token, cookie and Host rules, while the broker's API on that port stays as it was.

import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";
import { launchBrowser, type TestBrowser } from "./browser.ts";

let dev: DevBroker;
let dataDir: string;
let browser: TestBrowser;
let port: number;

function status(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cb-dev-console-"));
  port = await freePort();
  dev = await startDev({
    configPath: await demoConfigFor(dataDir, port),
    port,
    dataDir,
    inMemory: true,
    sweepIntervalSeconds: 0,
    log: silentLogger,
  });
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await dev?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe("credbroker dev's console", () => {
  it("is at /console/ on the dev port, with a token", () => {
    expect(dev.consoleUrl).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${port}/console/\\?token=[A-Za-z0-9_-]{43}$`),
    );
  });

  it("answers 401 without the token and for a foreign Host; the API needs neither", async () => {
    const host = `127.0.0.1:${port}`;
    expect(await status("/console/", host)).toBe(401);
    expect(await status("/console/grants", host)).toBe(401);
    expect(await status(`/console/${new URL(dev.consoleUrl).search}`, `rebound.example:${port}`)).toBe(401);
    expect(await status(`/console/${new URL(dev.consoleUrl).search}`, host)).toBe(303);
    expect(await status("/.well-known/jwks.json", host)).toBe(200);
  });

  it("shows a grant the dev broker just issued", async () => {
    const minted = await fetch(`${dev.url}/dev/issuer/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "repo:acme/reports:ref:refs/heads/main" }),
    });
    const { token } = (await minted.json()) as { token: string };
    const res = await fetch(`${dev.url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: token,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    });
    const { grant_id: grantId } = (await res.json()) as { grant_id: string };
    expect(res.status).toBe(200);

    const { page, errors } = await browser.page();
    await page.goto(dev.consoleUrl);
    expect(page.url()).toBe(`${dev.url}/console/`);
    await page.getByRole("link", { name: "Grants", exact: true }).click();
    await page.getByRole("link", { name: grantId }).click();
    expect(await page.textContent("#grant-status")).toBe("active");
    expect(await page.locator("#audit-table tbody tr").count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await page.close();
  });
});
