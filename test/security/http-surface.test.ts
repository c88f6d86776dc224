// The dev server's HTTP surface under hostile requests: odd methods, traversal and encoded-slash paths,
// oversized and chunked bodies, charset tricks and forwarding headers that try to spoof the source IP.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevHarness, rawRequest, startDevHarness, TOKEN_EXCHANGE_FORM } from "./dev-harness.ts";
import { allGrants } from "./helpers.ts";

let h: DevHarness;
let token: string;
const FORM = { "content-type": "application/x-www-form-urlencoded" };

beforeAll(async () => {
  h = await startDevHarness();
  token = await h.mint("repo:acme/web:ref:refs/heads/main", {
    repository: "acme/web",
    ref: "refs/heads/main",
  });
});
afterAll(() => h?.dev.close());

const auditLines = () =>
  h.logs
    .map((l) => JSON.parse(l) as { message: string; audit?: Record<string, unknown> })
    .filter((l) => l.message === "audit" && l.audit)
    .map((l) => l.audit as Record<string, unknown>);

const noCredential = (body: string) => {
  expect(body).not.toContain("access_token");
  expect(body).not.toContain(token.slice(-20));
};

describe("dev server HTTP surface", () => {
  it("control: a plain exchange over HTTP succeeds", async () => {
    const res = await rawRequest(h.dev.url, {
      path: "/token",
      headers: FORM,
      body: TOKEN_EXCHANGE_FORM(token),
    });
    expect(res.status).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it.each([
    "/token/",
    "//token",
    "/Token",
    "/TOKEN",
    "/token/../token",
    "/x/../token",
    "/%2e%2e/token",
    "/.%2e/token",
    "/%74oken",
    "/token%2f",
    "/token%00",
    "/token;.json",
    "/./token",
    "/dev/issuer/..%2f..%2ftoken",
    "/dev/issuer/%2e%2e/token",
    "/.well-known/..%2ftoken",
    "/token\\",
    "http://evil.test/token",
  ])("serves no credential for the path %s", async (path) => {
    const res = await rawRequest(h.dev.url, { path, headers: FORM, body: TOKEN_EXCHANGE_FORM(token) });
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: "not_found" });
    noCredential(res.body);
  });

  it.each(["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "SEARCH"])(
    "refuses %s /token with 405",
    async (method) => {
      const res = await rawRequest(h.dev.url, {
        method,
        path: "/token",
        headers: FORM,
        body: TOKEN_EXCHANGE_FORM(token),
      });
      expect(res.status).toBe(405);
      expect(res.headers["allow"]).toBe("POST");
      noCredential(res.body);
    },
  );

  it("answers HEAD /token with 405 and no body", async () => {
    const res = await rawRequest(h.dev.url, { method: "HEAD", path: "/token", headers: FORM });
    expect(res.status).toBe(405);
  });

  it("refuses a declared body over 64 KiB with 413 without reading it", async () => {
    const body = TOKEN_EXCHANGE_FORM(token, "read-reports", { purpose: "a".repeat(70_000) });
    const res = await rawRequest(h.dev.url, { path: "/token", headers: FORM, body });
    expect(res.status).toBe(413);
    expect(res.headers["connection"]).toBe("close");
    expect(JSON.parse(res.body)).toMatchObject({ error: "request_too_large" });
  });

  it("refuses a chunked body that grows past 64 KiB with 413", async () => {
    const res = await rawRequest(h.dev.url, {
      path: "/token",
      headers: { ...FORM, "transfer-encoding": "chunked" },
      body: TOKEN_EXCHANGE_FORM(token, "read-reports", { purpose: "a".repeat(200_000) }),
    });
    expect(res.status).toBe(413);
  });

  it("refuses a body whose declared charset is not UTF-8 with 415", async () => {
    const res = await rawRequest(h.dev.url, {
      path: "/token",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-16le" },
      body: Buffer.from(TOKEN_EXCHANGE_FORM(token), "utf16le"),
    });
    expect(res.status).toBe(415);
    noCredential(res.body);
  });

  it("refuses invalid UTF-8 bytes inside a parameter with 400, grants nothing and audits the refusal", async () => {
    const grantsBefore = (await allGrants(h.dev.deps.store)).length;
    const auditsBefore = auditLines().length;
    const body = Buffer.concat([
      Buffer.from(`${TOKEN_EXCHANGE_FORM(token)}&purpose=`),
      Buffer.from([0xc0, 0xaf, 0xff]),
    ]);
    const res = await rawRequest(h.dev.url, { path: "/token", headers: FORM, body });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: "invalid_request",
      error_description: "the purpose parameter is not valid UTF-8",
    });
    noCredential(res.body);
    expect((await allGrants(h.dev.deps.store)).length).toBe(grantsBefore);
    const audits = auditLines().slice(auditsBefore);
    expect(audits).toEqual([
      expect.objectContaining({ kind: "token", outcome: "error", errorCode: "malformed_parameter" }),
    ]);
    expect(audits[0]).not.toHaveProperty("grantId");
    expect(audits[0]).not.toHaveProperty("purpose");
  });

  it("records the socket address as the source IP whatever forwarding headers say", async () => {
    const res = await rawRequest(h.dev.url, {
      path: "/token",
      headers: {
        ...FORM,
        "x-forwarded-for": "10.20.0.5, 8.8.8.8",
        "x-real-ip": "10.20.0.6",
        forwarded: "for=10.20.0.7;proto=https",
        "x-client-ip": "10.20.0.8",
        "cf-connecting-ip": "10.20.0.9",
      },
      body: TOKEN_EXCHANGE_FORM(token),
    });
    expect(res.status).toBe(200);
    const grant = await h.dev.deps.store.getGrant((JSON.parse(res.body) as { grant_id: string }).grant_id);
    expect(grant?.sourceIp).toBe("127.0.0.1");
  });

  it("leaves every refused request without a live grant", async () => {
    const grants = await allGrants(h.dev.deps.store);
    // Only the two requests above that were meant to succeed issued.
    expect(grants.length).toBe(2);
    expect(grants.every((g) => g.status === "active" && g.sourceIp === "127.0.0.1")).toBe(true);
  });
});
