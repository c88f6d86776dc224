// Issue 27, DNS rebinding: a web page the developer visits can point its own name at 127.0.0.1 and send
// `Host: evil.example:PORT` with a text/plain body (no CORS preflight). Every route of `credbroker dev`
// answers such a request with nothing: no dev token, no approval, no credential. The dev minting routes
// also take only application/json and refuse a foreign Origin.
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

let dev: DevBroker;
let dataDir: string;
let port: number;

function send(
  method: string,
  path: string,
  headers: Record<string, string>,
  body = "",
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cb-dev-rebind-"));
  port = await freePort();
  dev = await startDev({
    configPath: await demoConfigFor(dataDir, port),
    port,
    dataDir,
    inMemory: true,
    sweepIntervalSeconds: 0,
    log: silentLogger,
  });
});
afterAll(async () => {
  await dev?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const MINT = JSON.stringify({ sub: "agent:ops", claims: { groups: "sre", email: "eve@acme.example" } });
const ROUTES: [string, string, string][] = [
  ["POST", "/dev/issuer/token", MINT],
  ["POST", "/dev/approvers/token", MINT],
  ["GET", "/dev/issuer/.well-known/openid-configuration", ""],
  ["GET", "/dev/issuer/jwks.json", ""],
  ["GET", "/dev/approvers/jwks.json", ""],
  ["POST", "/token", "grant_type=urn:ietf:params:oauth:grant-type:token-exchange&scope=read-reports"],
  ["POST", "/introspect", "token=x"],
  ["POST", "/revoke", "token=x"],
  ["GET", "/approvals", ""],
  ["POST", "/approvals/01kmexampleexampleexample0", "decision=approve"],
  ["GET", "/.well-known/jwks.json", ""],
  ["GET", "/.well-known/oauth-authorization-server", ""],
  ["GET", "/console/", ""],
];

describe("a rebinding-shaped request (foreign Host, text/plain)", () => {
  it.each(ROUTES)("to %s %s gets nothing", async (method, path, body) => {
    const res = await send(
      method,
      path,
      { host: `evil.example:${port}`, "content-type": "text/plain" },
      body,
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toMatch(/"token"|eyJ|"keys"|"approvals"|"issuer"/);
  });
});

describe("the dev minting routes", () => {
  it.each(["/dev/issuer/token", "/dev/approvers/token"])(
    "%s refuses text/plain from this server's own Host: 415, no token",
    async (path) => {
      const res = await send("POST", path, { host: `127.0.0.1:${port}`, "content-type": "text/plain" }, MINT);
      expect(res.status).toBe(415);
      expect(res.body).not.toContain('"token"');
    },
  );

  it.each(["/dev/issuer/token", "/dev/approvers/token"])(
    "%s refuses a foreign Origin even with JSON and the right Host",
    async (path) => {
      const res = await send(
        "POST",
        path,
        { host: `127.0.0.1:${port}`, "content-type": "application/json", origin: "http://evil.example" },
        MINT,
      );
      expect(res.status).toBe(421);
      expect(res.body).not.toContain('"token"');
    },
  );

  it.each([`127.0.0.1:PORT`, `localhost:PORT`])("mints for Host %s with JSON", async (host) => {
    const res = await send(
      "POST",
      "/dev/issuer/token",
      { host: host.replace("PORT", String(port)), "content-type": "application/json; charset=utf-8" },
      MINT,
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)["token"]).toMatch(/^eyJ/);
  });
});
