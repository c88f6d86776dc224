// Remote key sets: discovery, caching across requests, refresh on an unknown kid with a cool-down, no
// fetch for an issuer that is not configured.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixedClock } from "../../lib/core/clock.ts";
import { BrokerError } from "../../lib/core/errors.ts";
import { createJoseVerifier } from "../../lib/identity/jose-verifier.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";

let server: Server;
let base: string;
let issuer: TestIssuer;
let rotated: TestIssuer;
let keys: object[] = [];
const hits: string[] = [];
let down = false;
/** Discovery requests still to answer with 503 (a warm-up cut short), then as usual. */
let failDiscoveries = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (down || (req.url === "/.well-known/openid-configuration" && failDiscoveries-- > 0)) {
      res.writeHead(503).end();
      return;
    }
    if (req.url === "/.well-known/openid-configuration") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ issuer: base, jwks_uri: `${base}/keys` }));
    } else if (req.url === "/keys") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = await createTestIssuer(base, "ES256", "k1");
  rotated = await createTestIssuer(base, "ES256", "k2");
  keys = [issuer.publicJwk];
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("remote JWKS", () => {
  it("discovers the key set once and serves later requests from the cache", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({
      issuers: [
        {
          name: "remote",
          issuer: base,
          algorithms: ["ES256"],
          maxTokenAgeSeconds: 900,
          clockToleranceSeconds: 30,
        },
      ],
      audience: "credbroker",
      clock,
      jwksCooldownMs: 60_000,
    });
    hits.length = 0;
    for (let i = 0; i < 5; i++) await verifier.verify(await issuer.mint({}, { nowMs: clock.now() }));
    expect(hits).toEqual(["/.well-known/openid-configuration", "/keys"]);
  });

  it("refetches on an unknown kid, then not again within the cool-down", async () => {
    const verifier = createJoseVerifier({
      issuers: [
        {
          name: "remote",
          issuer: base,
          jwksUri: `${base}/keys`,
          algorithms: ["ES256"],
          maxTokenAgeSeconds: 900,
          clockToleranceSeconds: 30,
        },
      ],
      audience: "credbroker",
      clock: { now: () => Date.now() },
      jwksCooldownMs: 1000,
    });
    keys = [issuer.publicJwk];
    await verifier.verify(await issuer.mint());
    // jose's cool-down runs from the last fetch: wait it out so the rotation below may refetch.
    await new Promise((r) => setTimeout(r, 1100));
    // The issuer rotates: the new kid is unknown to the cache, so the verifier refetches and succeeds.
    keys = [issuer.publicJwk, rotated.publicJwk];
    hits.length = 0;
    await verifier.verify(await rotated.mint());
    expect(hits).toEqual(["/keys"]);
    // An attacker's random kids inside the cool-down cause no further fetches.
    hits.length = 0;
    for (let i = 0; i < 3; i++) {
      await expect(
        verifier.verify(await issuer.mint({}, { header: { kid: `random-${i}` } })),
      ).rejects.toBeInstanceOf(BrokerError);
    }
    expect(hits).toEqual([]);
  });

  it("never fetches anything for a token naming an issuer that is not configured", async () => {
    const verifier = createJoseVerifier({
      issuers: [
        {
          name: "remote",
          issuer: base,
          algorithms: ["ES256"],
          maxTokenAgeSeconds: 900,
          clockToleranceSeconds: 30,
        },
      ],
      audience: "credbroker",
      clock: { now: () => Date.now() },
    });
    const stranger = await createTestIssuer(`${base}/elsewhere`, "ES256");
    hits.length = 0;
    await expect(verifier.verify(await stranger.mint())).rejects.toMatchObject({ code: "untrusted_issuer" });
    expect(hits).toEqual([]);
  });

  it("after a failed discovery answers dependency_unavailable without refetching until the cool-down ends", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({
      issuers: [
        {
          name: "remote",
          issuer: base,
          algorithms: ["ES256"],
          maxTokenAgeSeconds: 900,
          clockToleranceSeconds: 30,
        },
      ],
      audience: "credbroker",
      clock,
      jwksCooldownMs: 30_000,
    });
    keys = [issuer.publicJwk];
    const token = await issuer.mint({}, { nowMs: clock.now() });
    down = true;
    hits.length = 0;
    try {
      for (let i = 0; i < 5; i++) {
        await expect(verifier.verify(token)).rejects.toMatchObject({ code: "dependency_unavailable" });
        clock.advance(5_000); // 20 s in all: still inside the cool-down
      }
      // The issuer was asked once during the outage, not once per request.
      expect(hits).toEqual(["/.well-known/openid-configuration"]);
    } finally {
      down = false;
    }
    // Back up, but the cool-down (30 s from the failure) has not passed: still refused, still no request.
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: "dependency_unavailable" });
    expect(hits).toEqual(["/.well-known/openid-configuration"]);
    // Once it has passed, discovery is tried again and the token verifies.
    clock.advance(10_001);
    hits.length = 0;
    await expect(verifier.verify(token)).resolves.toMatchObject({ subject: expect.any(String) });
    expect(hits).toEqual(["/.well-known/openid-configuration", "/keys"]);
  });

  it("fails closed with dependency_unavailable when the key set cannot be fetched", async () => {
    const verifier = createJoseVerifier({
      issuers: [
        {
          name: "remote",
          issuer: base,
          jwksUri: `${base}/keys`,
          algorithms: ["ES256"],
          maxTokenAgeSeconds: 900,
          clockToleranceSeconds: 30,
        },
      ],
      audience: "credbroker",
      clock: { now: () => Date.now() },
    });
    down = true;
    try {
      await expect(verifier.verify(await issuer.mint())).rejects.toMatchObject({
        code: "dependency_unavailable",
      });
    } finally {
      down = false;
    }
  });
});

describe("warm-up at cold start", () => {
  const remoteIssuer = () => ({
    name: "remote",
    issuer: base,
    algorithms: ["ES256" as const],
    maxTokenAgeSeconds: 900,
    clockToleranceSeconds: 30,
  });

  it("fetches discovery and the key set before the first token, which then fetches nothing", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({ issuers: [remoteIssuer()], audience: "credbroker", clock });
    keys = [issuer.publicJwk];
    hits.length = 0;
    await verifier.warmUp?.();
    expect(hits).toEqual(["/.well-known/openid-configuration", "/keys"]);
    const verified = await verifier.verify(await issuer.mint({}, { nowMs: clock.now() }));
    expect(verified.issuer.name).toBe("remote");
    expect(hits).toHaveLength(2);
  });

  it("shares its fetch with a token that arrives while it is in flight", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({ issuers: [remoteIssuer()], audience: "credbroker", clock });
    keys = [issuer.publicJwk];
    hits.length = 0;
    const warming = verifier.warmUp?.();
    await verifier.verify(await issuer.mint({}, { nowMs: clock.now() }));
    await warming;
    expect(hits).toEqual(["/.well-known/openid-configuration", "/keys"]);
  });

  it("a failed warm-up leaves no cool-down: the first token discovers afresh and is verified", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({
      issuers: [remoteIssuer()],
      audience: "credbroker",
      clock,
      jwksCooldownMs: 60_000,
    });
    keys = [issuer.publicJwk];
    down = true;
    hits.length = 0;
    try {
      await expect(verifier.warmUp?.()).resolves.toBeUndefined();
    } finally {
      down = false;
    }
    expect(hits).toEqual(["/.well-known/openid-configuration"]);
    const verified = await verifier.verify(await issuer.mint({}, { nowMs: clock.now() }));
    expect(verified.issuer.name).toBe("remote");
    expect(hits).toEqual(["/.well-known/openid-configuration", "/.well-known/openid-configuration", "/keys"]);
  });

  it("a token that arrives while a warm-up fails waits it out, then discovers on its own and is verified", async () => {
    const clock = fixedClock(Date.now());
    const verifier = createJoseVerifier({ issuers: [remoteIssuer()], audience: "credbroker", clock });
    keys = [issuer.publicJwk];
    hits.length = 0;
    const token = await issuer.mint({}, { nowMs: clock.now() });
    failDiscoveries = 1;
    const warming = verifier.warmUp?.();
    const verified = await verifier.verify(token);
    await warming;
    expect(verified.issuer.name).toBe("remote");
    expect(hits).toEqual(["/.well-known/openid-configuration", "/.well-known/openid-configuration", "/keys"]);
  });
});
