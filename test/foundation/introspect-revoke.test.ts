// The life of a jwt grant seen from a resource server (introspection) and from the workload (self-release).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";

let broker: TestBroker;
beforeAll(async () => {
  broker = await createTestBroker();
});
afterAll(closeSharedDynamo);

async function issue() {
  const subject = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: broker.clock.now() });
  const res = await broker.exchange(subject);
  expect(res.status).toBe(200);
  return { subject, token: res.body["access_token"] as string, grantId: res.body["grant_id"] as string };
}

describe("introspection and self-release", () => {
  it("reports an issued token active with its claims, then inactive after self-release", async () => {
    const { subject, token, grantId } = await issue();
    const active = await broker.call("introspect", { token });
    expect(active.body).toMatchObject({
      active: true,
      sub: "web-ci",
      jti: grantId,
      scope: "reports:read",
      aud: "https://reports.test",
      client_id: "web-ci",
    });

    const released = await broker.call("revoke", {
      token,
      subject_token: subject,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(released.status).toBe(200);
    expect(released.body).toEqual({});
    expect((await broker.call("introspect", { token })).body).toEqual({ active: false });
    expect(await broker.store.getGrant(grantId)).toMatchObject({ status: "revoked", reason: "released" });
  });

  it("releases by grant id too", async () => {
    const { subject, grantId } = await issue();
    await broker.call("revoke", { token: grantId, subject_token: subject });
    expect(await broker.store.getGrant(grantId)).toMatchObject({ status: "revoked" });
  });

  it("does not let another workload release a grant, and still answers 200", async () => {
    const { token, grantId } = await issue();
    const other = await createTestBroker({
      issuer: broker.issuer,
      store: broker.store,
      config: (issuer) => ({
        version: 1,
        audience: "credbroker",
        issuerUrl: "https://broker.test",
        issuers: [{ name: "test", issuer: issuer.issuer, jwks: issuer.jwks, algorithms: ["ES256"] }],
        workloads: [{ name: "intruder", issuer: "test", subject: "repo:evil/*:**" }],
        tasks: [{ name: "read-reports", provider: "jwt", audience: "x" }],
        policies: ["p"],
      }),
    });
    other.clock.set(broker.clock.now());
    const intruderToken = await broker.issuer.mint(
      { sub: "repo:evil/x:ref:main" },
      { nowMs: broker.clock.now() },
    );
    const res = await other.call("revoke", { token: grantId, subject_token: intruderToken });
    expect(res.status).toBe(200);
    expect(await broker.store.getGrant(grantId)).toMatchObject({ status: "active" });
    expect((await broker.call("introspect", { token })).body["active"]).toBe(true);
  });

  it("refuses a release with a bad subject token", async () => {
    const { grantId } = await issue();
    const res = await broker.call("revoke", { token: grantId, subject_token: "garbage" });
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
  });

  it("reports inactive for a forged, unknown or expired token", async () => {
    expect((await broker.call("introspect", { token: "eyJhbGciOiJFUzI1NiJ9.e30.AAAA" })).body).toEqual({
      active: false,
    });
    const { token } = await issue();
    broker.clock.advance(301_000);
    expect((await broker.call("introspect", { token })).body).toEqual({ active: false });
  });

  it("expires due grants in the sweep, exactly once", async () => {
    const { grantId } = await issue();
    broker.clock.advance(301_000);
    const [a, b] = await Promise.all([sweepDue(broker.deps), sweepDue(broker.deps)]);
    expect(a.errors + b.errors).toBe(0);
    expect(await broker.store.getGrant(grantId)).toMatchObject({ status: "expired" });
    const events = await broker.store.listAudit({ sinceMs: NOW - 1000, untilMs: broker.clock.now() + 1000 });
    expect(events.items.filter((e) => e.grantId === grantId && e.outcome === "expire")).toHaveLength(1);
  });

  it("serves its JWKS and RFC 8414 metadata", async () => {
    const jwks = await broker.call("jwks");
    expect((jwks.body["keys"] as { kty: string; d?: string }[])[0]).toMatchObject({
      kty: "EC",
      crv: "P-256",
      alg: "ES256",
      use: "sig",
    });
    expect((jwks.body["keys"] as { d?: string }[])[0]!.d).toBeUndefined();
    const meta = await broker.call("metadata");
    expect(meta.body).toMatchObject({
      issuer: "https://broker.test",
      token_endpoint: "https://broker.test/token",
      jwks_uri: "https://broker.test/.well-known/jwks.json",
      grant_types_supported: ["urn:ietf:params:oauth:grant-type:token-exchange"],
      credbroker_audience: "credbroker",
    });
  });
});
