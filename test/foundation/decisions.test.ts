// Policy decisions through the token endpoint: permit, forbid overriding it, unregistered and disabled
// workloads, time and network conditions, exceptions.
import { decodeJwt, decodeProtectedHeader } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";

afterAll(closeSharedDynamo);

describe("decisions", () => {
  it("issues an RFC 9068 access token when a policy permits", async () => {
    const broker = await createTestBroker();
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const res = await broker.exchange(token, { purpose: "nightly report" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer",
      expires_in: 300,
      expires_at: "2026-11-30T10:05:00Z",
      scope: "read-reports",
    });
    const jwt = res.body["access_token"] as string;
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect(decodeJwt(jwt)).toMatchObject({
      iss: "https://broker.test",
      sub: "web-ci",
      aud: "https://reports.test",
      scope: "reports:read",
      client_id: "web-ci",
      jti: res.body["grant_id"],
    });
    const grant = await broker.store.getGrant(res.body["grant_id"] as string);
    expect(grant).toMatchObject({
      status: "active",
      workload: "web-ci",
      task: "read-reports",
      policyIds: ["ci-reads-reports"],
      purpose: "nightly report",
      sourceIp: "127.0.0.1",
    });
  });

  it("denies with access_denied and a decision id when no policy permits", async () => {
    const broker = await createTestBroker();
    const token = await broker.issuer.mint({ repository: "acme/other" }, { nowMs: NOW });
    const res = await broker.exchange(token);
    expect(res.status).toBe(403);
    expect(res.body["error"]).toBe("access_denied");
    expect(res.body["decision_id"]).toMatch(/^[0-9a-z]{26}$/);
  });

  it("lets a forbid override a permit, naming the forbid in the audit trail", async () => {
    const broker = await createTestBroker();
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const res = await broker.exchange(token, { purpose: "exfiltrate" });
    expect(res.status).toBe(403);
    const events = await broker.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 1000 });
    const deny = events.items.find((e) => e.decisionId === res.body["decision_id"]);
    expect(deny).toMatchObject({ outcome: "deny", policyIds: ["no-forbidden-purpose"] });
  });

  it("denies a quarantined workload through its signal", async () => {
    const broker = await createTestBroker();
    await broker.store.setSignals("web-ci", { quarantined: "true" }, NOW);
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(403);
  });

  it("denies an unregistered subject", async () => {
    const broker = await createTestBroker();
    const res = await broker.exchange(
      await broker.issuer.mint({ sub: "repo:someone/else:ref:main", repository: "acme/web" }, { nowMs: NOW }),
    );
    expect(res.status).toBe(403);
    expect(res.body["error"]).toBe("access_denied");
    expect(res.body["decision_id"]).toBeDefined();
  });

  it("denies a disabled workload", async () => {
    const broker = await createTestBroker();
    const res = await broker.exchange(
      await broker.issuer.mint({ sub: "repo:acme/old:main", repository: "acme/web" }, { nowMs: NOW }),
    );
    expect(res.status).toBe(403);
    expect(res.body["error_description"]).toContain("disabled");
  });

  it("evaluates time and network conditions from the request context", async () => {
    const policies = `
@id("office-hours-from-office")
permit (principal, action == Action::"issue", resource)
when { context.hourUtc >= 8 && context.hourUtc < 18 && context.weekdayUtc >= 1 && context.weekdayUtc <= 5 && context.sourceIp.isInRange(ip("10.20.0.0/16")) };`;
    const broker = await createTestBroker({ policies });
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    expect((await broker.exchange(token, {}, "10.20.3.4")).status).toBe(200);
    expect((await broker.exchange(token, {}, "192.0.2.7")).status).toBe(403);
    broker.clock.set(Date.parse("2026-11-30T22:00:00Z"));
    const late = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: broker.clock.now() });
    expect((await broker.exchange(late, {}, "10.20.3.4")).status).toBe(403);
  });

  it("ignores an exception after its @expires", async () => {
    const policies = `
@id("temp-access") @exception("SEC-1") @expires("2026-12-01T00:00:00Z")
permit (principal, action, resource);`;
    const broker = await createTestBroker({ policies });
    const token = await broker.issuer.mint({}, { nowMs: NOW });
    const before = await broker.exchange(token);
    expect(before.status).toBe(200);
    const grant = await broker.store.getGrant(before.body["grant_id"] as string);
    expect(grant?.policyIds).toEqual(["temp-access"]);
    broker.clock.set(Date.parse("2026-12-01T00:00:01Z"));
    const after = await broker.exchange(await broker.issuer.mint({}, { nowMs: broker.clock.now() }));
    expect(after.status).toBe(403);
  });
});
