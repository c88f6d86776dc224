// Each error of CONTRACT §4 with the input that causes it, through the real token handler.
import { base64url, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeSharedDynamo, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";

let broker: TestBroker;

beforeAll(async () => {
  broker = await createTestBroker();
});
afterAll(closeSharedDynamo);

const GOOD = { repository: "acme/web" };
const exchangeBody = (token: string, extra: Record<string, string> = {}) => ({
  grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
  subject_token: token,
  subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  scope: "read-reports",
  ...extra,
});

async function activeGrants() {
  const page = await broker.store.listGrants();
  return page.items.filter((g) => g.status === "active");
}

describe("POST /token refuses bad subject tokens with invalid_request", () => {
  const cases: [string, () => Promise<string>][] = [
    [
      "an unsigned token (alg none)",
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: "none", typ: "JWT" }));
        const payload = base64url.encode(
          JSON.stringify({
            iss: broker.issuer.issuer,
            aud: "credbroker",
            sub: "repo:acme/web:ref:refs/heads/main",
            iat: NOW / 1000,
            exp: NOW / 1000 + 600,
            repository: "acme/web",
          }),
        );
        return `${header}.${payload}.`;
      },
    ],
    [
      "HS256 signed with the issuer's public key as the secret",
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(broker.issuer.publicJwk));
        return new SignJWT({
          aud: "credbroker",
          sub: "repo:acme/web:ref:refs/heads/main",
          repository: "acme/web",
        })
          .setProtectedHeader({ alg: "HS256", kid: broker.issuer.kid })
          .setIssuer(broker.issuer.issuer)
          .setIssuedAt(NOW / 1000)
          .setExpirationTime(NOW / 1000 + 600)
          .sign(secret);
      },
    ],
    ["an expired token", () => broker.issuer.mint(GOOD, { nowMs: NOW - 3600_000, lifetimeSeconds: 600 })],
    [
      "a token not valid yet (future nbf)",
      () => broker.issuer.mint({ ...GOOD, nbf: NOW / 1000 + 3600 }, { nowMs: NOW }),
    ],
    [
      "a token issued too long ago",
      () => broker.issuer.mint(GOOD, { nowMs: NOW - 2000_000, lifetimeSeconds: 7200 }),
    ],
    [
      "a token for another audience",
      () => broker.issuer.mint({ ...GOOD, aud: "someone-else" }, { nowMs: NOW }),
    ],
    [
      "a token from an untrusted issuer",
      () => broker.issuer.mint({ ...GOOD, iss: "https://evil.test" }, { nowMs: NOW }),
    ],
    ["a token with an unknown kid", () => broker.issuer.mint(GOOD, { nowMs: NOW, header: { kid: "nope" } })],
    [
      "a token whose signature was tampered with",
      async () => {
        const t = await broker.issuer.mint(GOOD, { nowMs: NOW });
        const [h, p, s] = t.split(".");
        const claims = JSON.parse(Buffer.from(p!, "base64url").toString());
        claims.repository = "acme/other";
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
      },
    ],
    ["a token that is not a JWT", async () => "not-a-jwt"],
  ];

  it.each(cases)("rejects %s", async (_name, make) => {
    const before = (await activeGrants()).length;
    const res = await broker.call("token", exchangeBody(await make()));
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect(res.body["access_token"]).toBeUndefined();
    expect((await activeGrants()).length).toBe(before);
  });

  // The token is verified before the task is looked up (STYLE §2): without a valid token, a real task name,
  // an unknown one and a token type that does not fit the task all get the same answer.
  it.each(cases)("does not disclose whether a task exists to %s", async (_name, make) => {
    const token = await make();
    const auditsBefore = broker.logs.length;
    const requests: Record<string, string>[] = [
      { scope: "read-reports" },
      { scope: "drop-database" },
      { scope: "read-reports", requested_token_type: "urn:credbroker:token-type:aws-credentials" },
    ];
    const answers = [];
    for (const extra of requests) {
      const res = await broker.call("token", exchangeBody(token, extra));
      answers.push({ status: res.status, body: res.body });
    }
    expect(answers[0]?.status).toBe(400);
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    const audits = broker.logs
      .slice(auditsBefore)
      .map((l) => JSON.parse(l) as { message: string; audit?: Record<string, unknown> })
      .filter((l) => l.message === "audit");
    expect(audits).toHaveLength(3);
    for (const { audit } of audits) expect(audit).not.toHaveProperty("task");
  });
});

describe("POST /token refuses malformed requests", () => {
  it("answers unsupported_grant_type for another grant type", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), { grant_type: "client_credentials" }),
    );
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("unsupported_grant_type");
  });

  it("answers invalid_scope for an unknown task", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), { scope: "drop-database" }),
    );
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_scope");
  });

  it("answers invalid_scope for two scopes", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), { scope: "read-reports read-reports" }),
    );
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_scope");
  });

  it("answers invalid_request for a repeated parameter", async () => {
    const token = await broker.issuer.mint(GOOD, { nowMs: NOW });
    const body = `${new URLSearchParams(exchangeBody(token)).toString()}&scope=read-reports`;
    const res = await broker.call("token", body);
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect(res.body["error_description"]).toContain("scope");
  });

  it("ignores unrecognised parameters such as client_id", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), { client_id: "gh-actions" }),
    );
    expect(res.status).toBe(200);
  });

  it("answers 413 for a body over 64 KiB", async () => {
    const res = await broker.call("token", exchangeBody("x".repeat(70 * 1024)));
    expect(res.status).toBe(413);
  });

  it("answers 415 for an unsupported content type", async () => {
    const res = await broker.call("token", "grant_type=x", { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
  });

  it("answers 405 for GET", async () => {
    const res = await broker.call("token", {}, { method: "GET" });
    expect(res.status).toBe(405);
  });

  it("accepts a JSON body", async () => {
    const token = await broker.issuer.mint(GOOD, { nowMs: NOW });
    const res = await broker.call("token", JSON.stringify(exchangeBody(token)), {
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(res.body["token_type"]).toBe("Bearer");
  });

  it("refuses a duration above the task's maximum", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), { duration_seconds: "301" }),
    );
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
  });

  it("refuses a requested_token_type that does not fit the task", async () => {
    const res = await broker.call(
      "token",
      exchangeBody(await broker.issuer.mint(GOOD, { nowMs: NOW }), {
        requested_token_type: "urn:credbroker:token-type:aws-credentials",
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
  });

  it("marks every response no-store", async () => {
    const res = await broker.call("token", exchangeBody("bad"));
    expect(res.result.headers["cache-control"]).toBe("no-store");
    expect(res.result.headers["content-type"]).toBe("application/json");
  });
});
