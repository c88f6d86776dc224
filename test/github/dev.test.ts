// `credbroker dev` with the demo's github task: without the GitHub stand-in it answers 503 and the rest of
// the demo works; with it, tokens are sealed under a key in the data dir that survives a restart.
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { pointDemoAtStandIn } from "../client/support.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

const SUB = "repo:acme/web:ref:refs/heads/main";
const CLAIMS = { repository: "acme/web", ref: "refs/heads/main" };

async function exchange(dev: DevBroker, task: string) {
  const subject = await dev.devIssuer.mint({
    sub: SUB,
    claims: CLAIMS,
    audience: "credbroker",
    nowMs: Date.now(),
  });
  const res = await fetch(`${dev.url}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      subject_token: subject,
      scope: task,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string>, subject };
}

const start = async (dataDir: string, configPath: string, port: number) =>
  startDev({ configPath, port, dynamoPort: 0, dataDir, sweepIntervalSeconds: 0, log: silentLogger });

describe("credbroker dev with the demo's github task", () => {
  it("answers 503 for it without the GitHub and KMS stand-ins, and serves the other tasks", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cb-gh-dev-"));
    const port = await freePort();
    // The demo's App key is in KMS: point KMS at a loopback port nothing listens on, as when the stand-in
    // is not running (and so that no request leaves the machine).
    const saved = process.env["AWS_ENDPOINT_URL_KMS"];
    process.env["AWS_ENDPOINT_URL_KMS"] = `http://127.0.0.1:${await freePort()}`;
    const dev = await startDev({
      configPath: await demoConfigFor(dataDir, port),
      port,
      dynamoPort: 0,
      inMemory: true,
      dataDir,
      sweepIntervalSeconds: 0,
      log: silentLogger,
    });
    try {
      const github = await exchange(dev, "push-web-docs");
      expect(github.status).toBe(503);
      expect(github.body["error"]).toBe("temporarily_unavailable");
      expect((await exchange(dev, "read-reports")).status).toBe(200);
    } finally {
      await dev.close();
      if (saved === undefined) delete process.env["AWS_ENDPOINT_URL_KMS"];
      else process.env["AWS_ENDPOINT_URL_KMS"] = saved;
    }
  });

  it("seals tokens under a key file in the data dir (0600) that a restarted dev still opens", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cb-gh-dev-"));
    const port = await freePort();
    const configPath = await demoConfigFor(dataDir, port);
    const github = await pointDemoAtStandIn(configPath, dataDir, Date.now);
    let dev = await start(dataDir, configPath, port);
    try {
      const issued = await exchange(dev, "push-web-docs");
      expect(issued.status).toBe(200);
      expect((await stat(join(dataDir, "github-token.key"))).mode & 0o777).toBe(0o600);
      await dev.close();
      dev = await start(dataDir, configPath, port);
      const res = await fetch(`${dev.url}/revoke`, {
        method: "POST",
        body: new URLSearchParams({ token: issued.body["grant_id"]!, subject_token: issued.subject }),
      });
      expect(res.status).toBe(200);
      expect(await github.tokenWorks(issued.body["access_token"]!)).toBe(false);
    } finally {
      await dev.close();
      await github.close();
    }
  });
});
