// The README's walk-through against `credbroker dev`: mint a dev token, exchange it, introspect the result,
// revoke it, introspect again — over real HTTP, with discovery of the dev issuer.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

let dev: DevBroker;
let savedDataDir: string;
const form = (o: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(o),
});

beforeAll(async () => {
  savedDataDir = await mkdtemp(join(tmpdir(), "cb-dev-"));
  // The demo config trusts http://127.0.0.1:8787/dev/issuer; this test runs on a free port with a copy
  // of the demo pointed at it.
  const port = await freePort();
  dev = await startDev({
    configPath: await demoConfigFor(savedDataDir, port),
    port,
    inMemory: true,
    dataDir: savedDataDir,
    sweepIntervalSeconds: 0,
    log: silentLogger,
  });
});
afterAll(() => dev?.close());

describe("credbroker dev walk-through", () => {
  it("mints, exchanges, introspects, revokes and introspects again", async () => {
    const minted = await fetch(`${dev.url}/dev/issuer/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "repo:acme/reports:ref:refs/heads/main" }),
    });
    const { token: subject } = (await minted.json()) as { token: string };

    const exchanged = await fetch(
      `${dev.url}/token`,
      form({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: subject,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    );
    expect(exchanged.status).toBe(200);
    expect(exchanged.headers.get("cache-control")).toBe("no-store");
    const body = (await exchanged.json()) as Record<string, string>;
    expect(body).toMatchObject({ token_type: "Bearer", scope: "read-reports", expires_in: 300 });

    const active = (await (
      await fetch(`${dev.url}/introspect`, form({ token: body["access_token"]! }))
    ).json()) as Record<string, unknown>;
    expect(active).toMatchObject({ active: true, sub: "reports-job", iss: dev.url });

    const revoked = await fetch(
      `${dev.url}/revoke`,
      form({ token: body["access_token"]!, subject_token: subject }),
    );
    expect(revoked.status).toBe(200);

    const inactive = await (
      await fetch(`${dev.url}/introspect`, form({ token: body["access_token"]! }))
    ).json();
    expect(inactive).toEqual({ active: false });
  });

  it("keeps its signing key in the data dir, so a restart serves the same JWKS", async () => {
    const before = await (await fetch(`${dev.url}/.well-known/jwks.json`)).json();
    const port = Number(new URL(dev.url).port);
    const configPath = dev.configPath;
    await dev.close();
    dev = await startDev({
      configPath,
      port,
      inMemory: true,
      dataDir: savedDataDir,
      sweepIntervalSeconds: 0,
      log: silentLogger,
    });
    expect(await (await fetch(`${dev.url}/.well-known/jwks.json`)).json()).toEqual(before);
  });

  it("answers unknown paths with a JSON 404 and never a stack trace", async () => {
    const res = await fetch(`${dev.url}/../../etc/passwd`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: "not_found" });
  });

  it("ignores X-Forwarded-For: the grant records the socket address", async () => {
    const minted = await fetch(`${dev.url}/dev/issuer/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "repo:acme/reports:ref:refs/heads/main" }),
    });
    const { token } = (await minted.json()) as { token: string };
    const res = await fetch(`${dev.url}/token`, {
      ...form({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: token,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
      headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": "10.20.0.1" },
    });
    const { grant_id } = (await res.json()) as { grant_id: string };
    expect((await dev.deps.store.getGrant(grant_id))?.sourceIp).toBe("127.0.0.1");
  });
});
