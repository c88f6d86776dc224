// Forged and borrowed tokens at /introspect and /revoke: a broker token forged with alg none, with HS256
// keyed by the broker's public key, re-signed by another key, or with its claims edited is never active;
// a workload can never end another workload's grant.
import { SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { baseConfig, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { rawJwt } from "./helpers.ts";

let broker: TestBroker;
let accessToken: string;
let grantId: string;
let webToken: string;
let otherToken: string;

beforeAll(async () => {
  broker = await createTestBroker({
    config: (issuer) => {
      const base = baseConfig(issuer);
      return {
        ...base,
        workloads: [
          ...(base["workloads"] as unknown[]),
          { name: "other-ci", issuer: "test", subject: "repo:acme/other:**" },
        ],
      };
    },
  });
  webToken = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
  otherToken = await broker.issuer.mint({ sub: "repo:acme/other:main" }, { nowMs: NOW });
  const res = await broker.exchange(webToken);
  accessToken = res.body["access_token"] as string;
  grantId = res.body["grant_id"] as string;
});

const claimsOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
const headerOf = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[0]!, "base64url").toString()) as { alg: string } & Record<
    string,
    unknown
  >;

describe("introspection of forged broker tokens", () => {
  it("control: the genuine token is active", async () => {
    expect((await broker.call("introspect", { token: accessToken })).body).toMatchObject({
      active: true,
      jti: grantId,
    });
  });

  it.each<[string, () => Promise<string>]>([
    ["alg none", async () => rawJwt({ ...headerOf(accessToken), alg: "none" }, claimsOf(accessToken), "")],
    [
      "alg none with a signature",
      async () => rawJwt({ ...headerOf(accessToken), alg: "none" }, claimsOf(accessToken)),
    ],
    [
      "HS256 keyed with the broker's public JWK",
      async () => {
        const jwk = (await broker.call("jwks")).body["keys"] as unknown[];
        return new SignJWT(claimsOf(accessToken))
          .setProtectedHeader({ ...headerOf(accessToken), alg: "HS256" })
          .sign(new TextEncoder().encode(JSON.stringify(jwk[0])));
      },
    ],
    [
      "re-signed with another key under the broker's kid",
      async () => {
        const other = await createTestIssuer("https://x.test", "ES256");
        return new SignJWT(claimsOf(accessToken))
          .setProtectedHeader(headerOf(accessToken))
          .sign(other.privateKey);
      },
    ],
    [
      "claims edited (scope widened)",
      async () => {
        const [h, , s] = accessToken.split(".");
        return `${h}.${Buffer.from(JSON.stringify({ ...claimsOf(accessToken), scope: "admin" })).toString("base64url")}.${s}`;
      },
    ],
    [
      "typ changed to JWT",
      async () => {
        const [, p, s] = accessToken.split(".");
        return `${Buffer.from(JSON.stringify({ ...headerOf(accessToken), typ: "JWT" })).toString("base64url")}.${p}.${s}`;
      },
    ],
    ["the subject token instead of an access token", async () => webToken],
    ["a grant id", async () => grantId],
    ["an oversized token", async () => `${accessToken}${"A".repeat(10_000)}`],
  ])("%s is not active", async (_name, forge) => {
    const res = await broker.call("introspect", { token: await forge() });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ active: false });
  });
});

describe("revocation with a borrowed grant", () => {
  it("another workload cannot end the grant by id or by token; the answer is the same 200", async () => {
    for (const token of [grantId, accessToken]) {
      const res = await broker.call("revoke", { token, subject_token: otherToken });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
    }
    expect((await broker.store.getGrant(grantId))?.status).toBe("active");
  });

  it("refuses a forged subject token with invalid_request and leaves the grant active", async () => {
    const forged = rawJwt(
      { alg: "none" },
      { iss: broker.issuer.issuer, sub: "repo:acme/web:main", aud: "credbroker" },
      "",
    );
    const res = await broker.call("revoke", { token: grantId, subject_token: forged });
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect((await broker.store.getGrant(grantId))?.status).toBe("active");
  });

  it("refuses a repeated token parameter", async () => {
    const res = await broker.call("revoke", `token=${grantId}&token=${grantId}&subject_token=${webToken}`);
    expect(res.status).toBe(400);
    expect((await broker.store.getGrant(grantId))?.status).toBe("active");
  });

  it("control: the owning workload ends its own grant", async () => {
    expect((await broker.call("revoke", { token: grantId, subject_token: webToken })).status).toBe(200);
    expect((await broker.store.getGrant(grantId))?.status).toBe("revoked");
    expect((await broker.call("introspect", { token: accessToken })).body).toEqual({ active: false });
  });
});
