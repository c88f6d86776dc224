// Hostile subject tokens through the real token handler: each is refused with the contract's error, no
// credential is returned, no grant becomes live, and the audit event names the refusal.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type CryptoKey, exportSPKI, generateKeyPair, importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BASE_POLICIES, baseConfig, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";
import { allGrants, expectNoCredential, rawJwt, signRawEs256 } from "./helpers.ts";

const POLICIES = `${BASE_POLICIES}
@id("ci-reads-metrics")
permit (principal, action == Action::"issue", resource == Task::"read-metrics")
when { principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };
`;

let A: TestIssuer; // the trusted issuer of the tests
let B: TestIssuer; // a second trusted issuer, whose keys must never vouch for A's tokens
let attacker: TestIssuer; // same issuer URL as A, keys nobody configured
let broker: TestBroker;
let jkuServer: Server;
let jkuUrl: string;
let jkuHits = 0;

const SUB = "repo:acme/web:ref:refs/heads/main";
const good = { repository: "acme/web" };
const iat = Math.floor(NOW / 1000);

beforeAll(async () => {
  A = await createTestIssuer("https://issuer.test", "ES256", "a-key");
  B = await createTestIssuer("https://other-issuer.test", "ES256", "b-key");
  attacker = await createTestIssuer("https://issuer.test", "ES256", "a-key");
  broker = await createTestBroker({
    issuer: A,
    policies: POLICIES,
    config: (issuer) => {
      const base = baseConfig(issuer);
      return {
        ...base,
        issuers: [
          ...(base["issuers"] as unknown[]),
          {
            name: "other",
            issuer: B.issuer,
            jwks: B.jwks,
            algorithms: ["ES256"],
            maxTokenAgeSeconds: 900,
            clockToleranceSeconds: 30,
          },
        ],
        workloads: [
          ...(base["workloads"] as unknown[]),
          { name: "other-ci", issuer: "other", subject: "repo:acme/web:**" },
        ],
        tasks: [
          ...(base["tasks"] as unknown[]),
          {
            name: "read-metrics",
            provider: "jwt",
            audience: "https://metrics.test",
            scopes: ["metrics:read"],
            maxDurationSeconds: 300,
            sensitivity: "low",
          },
        ],
      };
    },
  });
  // A key server an attacker would point jku/x5u at: the broker must never call it.
  jkuServer = createServer((_req, res) => {
    jkuHits++;
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(attacker.jwks));
  });
  await new Promise<void>((r) => jkuServer.listen(0, "127.0.0.1", () => r()));
  jkuUrl = `http://127.0.0.1:${(jkuServer.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((r) => jkuServer.close(() => r()));
});

const honest = () => ({ iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600, ...good });
const mintA = (claims: Record<string, unknown> = {}, lifetimeSeconds?: number) =>
  A.mint({ ...good, ...claims }, { nowMs: NOW, ...(lifetimeSeconds ? { lifetimeSeconds } : {}) });

async function signWith(
  alg: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
) {
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  return new SignJWT({ iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600, ...good, ...claims })
    .setProtectedHeader({ alg, kid: "a-key", ...header })
    .sign(privateKey);
}

function lastAudit(b: TestBroker): Record<string, unknown> {
  const line = [...b.logs].reverse().find((l) => l.includes('"message":"audit"'));
  return line ? (JSON.parse(line).audit as Record<string, unknown>) : {};
}

type Attack = [name: string, token: () => Promise<string>, status: number, error: string, code: string];

// Every row is a distinct hostile subject token; the count is reported in docs/security.md.
const ATTACKS: Attack[] = [
  // Algorithm and key confusion
  [
    "alg none, empty signature",
    async () =>
      rawJwt(
        { alg: "none", typ: "JWT" },
        { iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600 },
        "",
      ),
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "alg none with a signature",
    async () => rawJwt({ alg: "none" }, { iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600 }),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "alg NONE in capitals",
    async () => rawJwt({ alg: "NONE" }, { iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600 }),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "HS256 signed with the issuer's public JWK as the secret",
    async () =>
      new SignJWT({ iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600, ...good })
        .setProtectedHeader({ alg: "HS256", kid: "a-key" })
        .sign(new TextEncoder().encode(JSON.stringify(A.publicJwk))),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "HS256 signed with the issuer's public key PEM as the secret",
    async () =>
      new SignJWT({ iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600, ...good })
        .setProtectedHeader({ alg: "HS256" })
        .sign(
          new TextEncoder().encode(
            await exportSPKI((await importJWK(A.publicJwk, "ES256", { extractable: true })) as CryptoKey),
          ),
        ),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "RS256 (not in the issuer's allowlist)",
    () => signWith("RS256"),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "ES384 (not in the issuer's allowlist)",
    () => signWith("ES384"),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "PS256 (not in the issuer's allowlist)",
    () => signWith("PS256"),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "EdDSA (not in the issuer's allowlist)",
    () => signWith("EdDSA"),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "alg header missing",
    async () =>
      rawJwt(
        { typ: "JWT", kid: "a-key" },
        { iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600 },
      ),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "alg header an array",
    async () =>
      rawJwt(
        { alg: ["ES256"], kid: "a-key" },
        { iss: A.issuer, aud: "credbroker", sub: SUB, iat, exp: iat + 600 },
      ),
    400,
    "invalid_request",
    "algorithm_not_allowed",
  ],
  [
    "kid pointing at another configured issuer's key, signed with that key",
    () => B.mint({ ...good, iss: A.issuer }, { nowMs: NOW, header: { kid: "b-key" } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "iss of one configured issuer, signed with the other's key",
    () => B.mint({ ...good, iss: A.issuer }, { nowMs: NOW, header: { kid: "a-key" } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "the issuer's kid, an attacker's key",
    () => attacker.mint(good, { nowMs: NOW }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "jku header pointing at an attacker's key set",
    () => attacker.mint(good, { nowMs: NOW, header: { jku: jkuUrl } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "x5u header pointing at an attacker's certificate",
    () => attacker.mint(good, { nowMs: NOW, header: { x5u: jkuUrl } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "jwk header embedding the attacker's key",
    () => attacker.mint(good, { nowMs: NOW, header: { jwk: attacker.publicJwk } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "x5c header embedding an attacker's chain",
    () => attacker.mint(good, { nowMs: NOW, header: { x5c: ["MIIB"] } }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "crit naming an unknown extension",
    () =>
      signRawEs256(A.privateKey, { alg: "ES256", kid: "a-key", crit: ["x-evil"], "x-evil": true }, honest()),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "crit naming b64=false (unencoded payload)",
    () => signRawEs256(A.privateKey, { alg: "ES256", kid: "a-key", crit: ["b64"], b64: false }, honest()),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "crit empty",
    () => signRawEs256(A.privateKey, { alg: "ES256", kid: "a-key", crit: [] }, honest()),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  // Shape
  [
    "unsigned (two segments)",
    async () => (await mintA()).split(".").slice(0, 2).join("."),
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "truncated signature",
    async () => (await mintA()).slice(0, -10),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "truncated mid-payload",
    async () => (await mintA()).slice(0, 60),
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "double dot",
    async () => (await mintA()).replace(".", ".."),
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  ["four segments", async () => `${await mintA()}.e30`, 400, "invalid_request", "subject_token_malformed"],
  [
    "non-base64url characters (+ and /)",
    async () => `${(await mintA()).replace(/-/g, "+").replace(/_/g, "/")}+/`,
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  ["base64 padding", async () => `${await mintA()}==`, 400, "invalid_request", "subject_token_malformed"],
  [
    "surrounding whitespace",
    async () => ` ${await mintA()} `,
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "header not JSON",
    async () => `bm90IGpzb24.${(await mintA()).split(".").slice(1).join(".")}`,
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "payload not JSON",
    async () => {
      const [h, , s] = (await mintA()).split(".");
      return `${h}.bm90IGpzb24.${s}`;
    },
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "payload a JSON array",
    async () => {
      const [h, , s] = (await mintA()).split(".");
      return `${h}.${Buffer.from("[1]").toString("base64url")}.${s}`;
    },
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  [
    "payload swapped from another token (signature mismatch)",
    async () => {
      const [h, , s] = (await mintA()).split(".");
      const p = (await mintA({ repository: "acme/other" })).split(".")[1];
      return `${h}.${p}.${s}`;
    },
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "a 20 KiB token (over the subject-token limit, under the body limit)",
    () => mintA({ pad: "x".repeat(20_000) }),
    400,
    "invalid_request",
    "subject_token_malformed",
  ],
  ["a plain string", async () => "not-a-token", 400, "invalid_request", "subject_token_malformed"],
  // Time
  [
    "expired",
    () => A.mint(good, { nowMs: NOW - 3600_000, lifetimeSeconds: 600 }),
    400,
    "invalid_request",
    "subject_token_expired",
  ],
  [
    "expired just past the clock tolerance",
    () => mintA({ exp: iat - 31 }),
    400,
    "invalid_request",
    "subject_token_expired",
  ],
  ["nbf in the future", () => mintA({ nbf: iat + 600 }), 400, "invalid_request", "subject_token_expired"],
  [
    "iat in the future",
    () => mintA({ iat: iat + 600, exp: iat + 1200 }),
    400,
    "invalid_request",
    "subject_token_expired",
  ],
  [
    "too old (iat past maxTokenAge, exp still ahead)",
    () => mintA({ iat: iat - 1000, exp: iat + 600 }),
    400,
    "invalid_request",
    "subject_token_too_old",
  ],
  ["exp not a number", () => mintA({ exp: "tomorrow" }), 400, "invalid_request", "subject_token_invalid"],
  ["iat not a number", () => mintA({ iat: "now" }), 400, "invalid_request", "subject_token_invalid"],
  // Required claims
  ["missing sub", () => mintA({ sub: undefined }), 400, "invalid_request", "subject_token_invalid"],
  ["missing aud", () => mintA({ aud: undefined }), 400, "invalid_request", "subject_token_invalid"],
  ["missing exp", () => mintA({ exp: undefined }), 400, "invalid_request", "subject_token_invalid"],
  ["missing iat", () => mintA({ iat: undefined }), 400, "invalid_request", "subject_token_invalid"],
  ["missing iss", () => mintA({ iss: undefined }), 400, "invalid_request", "untrusted_issuer"],
  ["wrong aud", () => mintA({ aud: "someone-else" }), 400, "invalid_request", "wrong_audience"],
  ["aud array without ours", () => mintA({ aud: ["a", "b"] }), 400, "invalid_request", "wrong_audience"],
  [
    "aud differing only in case",
    () => mintA({ aud: "CredBroker" }),
    400,
    "invalid_request",
    "wrong_audience",
  ],
  [
    "iss not configured",
    () => mintA({ iss: "https://evil.test" }),
    400,
    "invalid_request",
    "untrusted_issuer",
  ],
  [
    "iss with a trailing slash",
    () => mintA({ iss: `${A.issuer}/` }),
    400,
    "invalid_request",
    "untrusted_issuer",
  ],
  ["iss an array", () => mintA({ iss: [A.issuer] }), 400, "invalid_request", "untrusted_issuer"],
  // Claim types and contents
  ["sub an object", () => mintA({ sub: { toString: SUB } }), 400, "invalid_request", "subject_token_invalid"],
  ["sub an array", () => mintA({ sub: [SUB] }), 400, "invalid_request", "subject_token_invalid"],
  ["sub a number", () => mintA({ sub: 12345 }), 400, "invalid_request", "subject_token_invalid"],
  ["sub empty", () => mintA({ sub: "" }), 400, "invalid_request", "subject_token_invalid"],
  [
    "sub a huge string",
    () => mintA({ sub: `repo:acme/web:${"a".repeat(4000)}` }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "sub with a NUL byte",
    () => mintA({ sub: "repo:acme/web:ref\u0000evil" }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "sub with a newline (log forging)",
    () => mintA({ sub: 'repo:acme/web:ref\n{"level":"info"}' }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "sub with an ANSI escape",
    () => mintA({ sub: "repo:acme/web:\u001b[2Jref" }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "sub with a bidi override",
    () => mintA({ sub: "repo:acme/web:ref\u202eniam" }),
    400,
    "invalid_request",
    "subject_token_invalid",
  ],
  [
    "sub a unicode look-alike (Cyrillic e)",
    () => mintA({ sub: "repo:acme/w\u0435b:ref:refs/heads/main" }),
    403,
    "access_denied",
    "unregistered_workload",
  ],
  [
    "sub a fullwidth look-alike",
    () => mintA({ sub: "repo:acme/\uff57eb:ref" }),
    403,
    "access_denied",
    "unregistered_workload",
  ],
  [
    "sub of a disabled workload",
    () => mintA({ sub: "repo:acme/old:main" }),
    403,
    "access_denied",
    "disabled_workload",
  ],
  [
    "claim used by policy is an object",
    () => mintA({ repository: { name: "acme/web" } }),
    403,
    "access_denied",
    "policy_denied",
  ],
  [
    "claim used by policy is an array",
    () => mintA({ repository: ["acme/web"] }),
    403,
    "access_denied",
    "policy_denied",
  ],
  [
    "claim used by policy has a NUL byte",
    () => mintA({ repository: "acme/web\u0000" }),
    403,
    "access_denied",
    "policy_denied",
  ],
  [
    "claim used by policy is a look-alike",
    () => mintA({ repository: "acme/w\u0435b" }),
    403,
    "access_denied",
    "policy_denied",
  ],
  [
    "claim used by policy is a huge string",
    () => mintA({ repository: `acme/web${" ".repeat(8000)}` }),
    403,
    "access_denied",
    "policy_denied",
  ],
  [
    "claims nested 50 levels deep",
    () => mintA({ repository: JSON.parse(`${'{"a":'.repeat(50)}1${"}".repeat(50)}`) }),
    403,
    "access_denied",
    "policy_denied",
  ],
];

describe("hostile subject tokens", () => {
  it.each(ATTACKS)(
    "refuses %s with the contract error and issues nothing",
    async (_name, makeToken, status, error, code) => {
      const before = (await allGrants(broker.store)).length;
      const token = await makeToken();
      broker.logs.length = 0; // so the audit line below is this request's, not an earlier row's
      const res = await broker.exchange(token);
      expect(res.status).toBe(status);
      expect(res.body["error"]).toBe(error);
      expectNoCredential(res.body);
      expect(broker.logs.filter((l) => l.includes('"message":"audit"'))).toHaveLength(1);
      expect(lastAudit(broker)["errorCode"]).toBe(code);
      expect((await allGrants(broker.store)).length).toBe(before);
    },
  );

  it("never fetches a key set from a jku or x5u the token names", () => {
    expect(jkuHits).toBe(0);
  });

  it("refuses a 1 MB token as a 413 before reading it", async () => {
    const before = (await allGrants(broker.store)).length;
    const res = await broker.exchange(`${await mintA()}${"A".repeat(1024 * 1024)}`);
    expect(res.status).toBe(413);
    expect(res.body["error"]).toBe("request_too_large");
    expectNoCredential(res.body);
    expect((await allGrants(broker.store)).length).toBe(before);
  });

  it("accepts an aud array that contains ours (the control case)", async () => {
    const res = await broker.exchange(await mintA({ aud: ["someone-else", "credbroker"] }));
    expect(res.status).toBe(200);
    expect(typeof res.body["grant_id"]).toBe("string");
  });

  it("treats a token replayed for another task as a separate grant", async () => {
    const token = await mintA({ sub: "repo:acme/web:ref:replay" });
    const first = await broker.exchange(token, { scope: "read-reports" });
    const second = await broker.exchange(token, { scope: "read-metrics" });
    const again = await broker.exchange(token, { scope: "read-reports" });
    expect([first.status, second.status, again.status]).toEqual([200, 200, 200]);
    const ids = [first.body["grant_id"], second.body["grant_id"], again.body["grant_id"]];
    expect(new Set(ids).size).toBe(3);
    const grants = (await allGrants(broker.store)).filter((g) => ids.includes(g.grantId));
    expect(grants.map((g) => g.task).sort()).toEqual(["read-metrics", "read-reports", "read-reports"]);
    expect(new Set(grants.map((g) => g.subjectTokenSha256)).size).toBe(1);
  });

  it("keeps a quarantine signal even when the token claims otherwise", async () => {
    await broker.store.setSignals("web-ci", { quarantined: "true" }, NOW);
    try {
      const res = await broker.exchange(await mintA({ "signal:quarantined": "false" }));
      expect(res.status).toBe(403);
      expect(res.body["error"]).toBe("access_denied");
    } finally {
      await broker.store.clearSignals("web-ci", ["quarantined"], NOW);
    }
  });
});
