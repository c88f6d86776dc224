// DynamoDB faults at each step of issuance and of the sweep, injected by a proxy in front of dynalite.
// Each test name says what the caller sees; each asserts that no credential exists without a durable
// grant: a 200 always has an active grant, anything else carries no credential, and every grant a
// credential may have been made for is active or ends failed after the sweep.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import type { Signer } from "../../lib/core/signer.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import { createLocalSigner, generateSigningKey } from "../../lib/local/local-signer.ts";
import {
  type DynamoFaultProxy,
  isAuditPut,
  isGrantPut,
  setsStatus,
  startDynamoFaultProxy,
} from "../fixtures/dynamo-fault-proxy.ts";
import { createTestBroker, NOW, sharedDynamo, type TestBroker } from "../support/broker.ts";
import { allGrants, expectNoCredential } from "./helpers.ts";

let proxy: DynamoFaultProxy;
let tables = 0;

interface Rig {
  broker: TestBroker;
  /** The same table read directly, around the proxy: the truth. */
  truth: DynamoGrantStore;
  signs: { count: number; fail: boolean };
  token: string;
}

async function rig(): Promise<Rig> {
  const dynamo = await sharedDynamo();
  const tableName = `faults${process.pid}x${++tables}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoGrantStore({
    client: localDynamoClient(proxy.url, { requestTimeoutMs: 1500 }),
    tableName,
  });
  const truth = new DynamoGrantStore({ client: dynamo.client, tableName });
  const signs = { count: 0, fail: false };
  const inner = await createLocalSigner(generateSigningKey());
  const signer: Signer = {
    ...inner,
    publicJwk: () => inner.publicJwk(),
    async sign(data) {
      signs.count++;
      if (signs.fail) throw new Error("signer unavailable");
      return inner.sign(data);
    },
  };
  const broker = await createTestBroker({ store, adapters: { signer } });
  const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
  return { broker, truth, signs, token };
}

/** The invariant of every fault test: a credential in hand has an active grant; none otherwise. */
async function expectNoCredentialWithoutGrant(
  r: Rig,
  res: { status: number; body: Record<string, unknown> },
) {
  if (res.status === 200) {
    const grant = await r.truth.getGrant(res.body["grant_id"] as string);
    expect(grant?.status).toBe("active");
  } else {
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
    expectNoCredential(res.body);
  }
}

/** After the issuing timeout, a sweep fails every grant whose issuance never finished. */
async function sweepLater(r: Rig) {
  r.broker.clock.advance(61_000);
  proxy.clear();
  return sweepDue(r.broker.deps, { budgetMs: 10_000 });
}

beforeAll(async () => {
  proxy = await startDynamoFaultProxy((await sharedDynamo()).endpoint);
});
afterAll(() => proxy?.close());
beforeEach(() => proxy.clear());

describe("DynamoDB faults before the record", () => {
  it("503 when the signals read keeps throttling; no grant, nothing signed", async () => {
    const r = await rig();
    proxy.add({
      op: "GetItem",
      when: (b) => JSON.stringify(b).includes("SIGNALS#"),
      action: { kind: "throttle" },
    });
    const res = await r.broker.exchange(r.token);
    await expectNoCredentialWithoutGrant(r, res);
    expect(res.status).toBe(503);
    expect(await allGrants(r.truth)).toEqual([]);
    expect(r.signs.count).toBe(0);
  });

  it("200 when the signals read throttles once (the SDK retries)", async () => {
    const r = await rig();
    proxy.add({ op: "GetItem", times: 1, action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(200);
    await expectNoCredentialWithoutGrant(r, res);
  });

  it("503 with a request id when DynamoDB is unreachable; nothing signed", async () => {
    const dynamo = await sharedDynamo();
    const tableName = `faults${process.pid}x${++tables}`;
    await ensureTable(dynamo.client, tableName);
    // Port 9 (discard) on loopback: nothing listens there.
    const store = new DynamoGrantStore({
      client: localDynamoClient("http://127.0.0.1:9", { requestTimeoutMs: 1500 }),
      tableName,
    });
    const broker = await createTestBroker({ store });
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ error: "temporarily_unavailable", request_id: "req-1" });
    expectNoCredential(res.body);
    // The audit event could not be stored, so it is in the log in full.
    expect(broker.logs.some((l) => l.includes('"audit event not stored"'))).toBe(true);
    expect(
      broker.logs.some((l) => l.includes('"outcome":"error"') && l.includes("dependency_unavailable")),
    ).toBe(true);
  });
});

describe("DynamoDB faults at the record", () => {
  it.each([
    ["throttling", { kind: "throttle" } as const],
    ["a 500", { kind: "error500" } as const],
    ["a connection reset", { kind: "reset" } as const],
  ])("503 when the grant write keeps failing with %s; no grant, nothing signed", async (_name, action) => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isGrantPut, action });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    await expectNoCredentialWithoutGrant(r, res);
    expect(await allGrants(r.truth)).toEqual([]);
    expect(r.signs.count).toBe(0);
  });

  it("503 when the grant write is slower than the request timeout; nothing signed, the late record is failed by the sweep", async () => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isGrantPut, action: { kind: "hold" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    await expectNoCredentialWithoutGrant(r, res);
    expect(r.signs.count).toBe(0);
    await proxy.release(); // the held writes land after the caller gave up
    const late = await allGrants(r.truth);
    expect(late.every((g) => g.status === "issuing")).toBe(true);
    await sweepLater(r);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(late.map(() => "failed"));
  });

  it("503 when the grant write lands but its answer is lost; nothing signed, the record is failed by the sweep", async () => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isGrantPut, times: 1, action: { kind: "lose-answer" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    expect(r.signs.count).toBe(0);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["issuing"]);
    const summary = await sweepLater(r);
    expect(summary.failed).toBe(1);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["failed"]);
  });
});

describe("faults between the record and the credential", () => {
  it("503 when the signer fails; the grant is failed at once", async () => {
    const r = await rig();
    r.signs.fail = true;
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    await expectNoCredentialWithoutGrant(r, res);
    const [grant] = await allGrants(r.truth);
    expect(grant?.status).toBe("failed");
    expect(grant?.reason).toBe("issue failed: dependency_unavailable");
  });

  it("503 when the signer fails and marking the grant failed throttles; the sweep fails it", async () => {
    const r = await rig();
    r.signs.fail = true;
    proxy.add({ op: "UpdateItem", when: setsStatus("failed"), action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["issuing"]);
    const summary = await sweepLater(r);
    expect(summary.failed).toBe(1);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["failed"]);
  });
});

describe("DynamoDB faults at the final update", () => {
  it("503 when activation keeps throttling; the signed token is withheld and the sweep fails the grant", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    await expectNoCredentialWithoutGrant(r, res);
    expect(r.signs.count).toBe(1);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["issuing"]);
    await sweepLater(r);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["failed"]);
  });

  it("200 when activation lands but its answer is lost (the retry sees the grant already active)", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), times: 1, action: { kind: "lose-answer" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(200);
    await expectNoCredentialWithoutGrant(r, res);
    expect(proxy.injected).toEqual(["UpdateItem:lose-answer"]);
  });

  it("503 when activation is slower than the timeout; the grant still ends active or failed, never lost", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "hold" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    await expectNoCredentialWithoutGrant(r, res);
    await proxy.release();
    await sweepLater(r);
    const [grant] = await allGrants(r.truth);
    expect(["active", "failed"]).toContain(grant?.status);
  });

  it("200 when the audit write fails: the decision stands and the event survives in the log", async () => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isAuditPut, action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(200);
    await expectNoCredentialWithoutGrant(r, res);
    expect(r.broker.logs.some((l) => l.includes('"audit event not stored"'))).toBe(true);
    expect(
      r.broker.logs.some(
        (l) => l.includes('"outcome":"issue"') && l.includes(res.body["grant_id"] as string),
      ),
    ).toBe(true);
  });
});

describe("DynamoDB faults in the sweep", () => {
  async function threeExpiringGrants(r: Rig) {
    for (let i = 0; i < 3; i++) expect((await r.broker.exchange(r.token)).status).toBe(200);
    r.broker.clock.advance(301_000);
  }
  const expireEvents = async (r: Rig) =>
    (await r.truth.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 3_600_000 })).items.filter(
      (e) => e.outcome === "expire",
    );

  it("the sweep reports an incomplete run when the due index cannot be read, and the next sweep expires every grant once", async () => {
    const r = await rig();
    await threeExpiringGrants(r);
    proxy.add({ op: "Query", action: { kind: "throttle" } });
    // The sweep does not throw: it reports that it did not finish, and never claims a clean run.
    const failed = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(failed).toMatchObject({ complete: false, expired: 0 });
    expect(failed.errors).toBeGreaterThan(0);
    expect((await allGrants(r.truth)).every((g) => g.status === "active")).toBe(true);
    proxy.clear();
    const summary = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(summary.expired).toBe(3);
    expect((await expireEvents(r)).length).toBe(3);
  });

  it("a throttled transition leaves that grant for the next sweep; no grant moves twice", async () => {
    const r = await rig();
    await threeExpiringGrants(r);
    proxy.add({ op: "UpdateItem", when: setsStatus("expired"), times: 2, action: { kind: "throttle" } });
    const first = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(first.expired).toBe(2);
    const second = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(second.expired).toBe(1);
    const third = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(third.expired).toBe(0);
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["expired", "expired", "expired"]);
    const events = await expireEvents(r);
    expect(new Set(events.map((e) => e.grantId)).size).toBe(3);
    expect(events.length).toBe(3);
  });

  it("a sweep with DynamoDB unreachable changes nothing, and the next sweep expires every grant once", async () => {
    const r = await rig();
    await threeExpiringGrants(r);
    const deadStore = new DynamoGrantStore({
      client: localDynamoClient("http://127.0.0.1:9", { requestTimeoutMs: 1500 }),
      tableName: "unreachable",
    });
    const failed = await sweepDue({ ...r.broker.deps, store: deadStore }, { budgetMs: 10_000 });
    expect(failed).toMatchObject({ complete: false, expired: 0 });
    expect(failed.errors).toBeGreaterThan(0);
    expect((await allGrants(r.truth)).every((g) => g.status === "active")).toBe(true);
    const summary = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(summary.expired).toBe(3);
    expect((await expireEvents(r)).length).toBe(3);
  });

  it("an expiry whose answer is lost still leaves exactly one expire event", async () => {
    const r = await rig();
    await threeExpiringGrants(r);
    proxy.add({ op: "UpdateItem", when: setsStatus("expired"), times: 1, action: { kind: "lose-answer" } });
    await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect((await allGrants(r.truth)).map((g) => g.status)).toEqual(["expired", "expired", "expired"]);
    expect((await expireEvents(r)).length).toBe(3);
  });

  it("a slow DynamoDB during the sweep delays it but loses nothing", async () => {
    const r = await rig();
    await threeExpiringGrants(r);
    proxy.add({
      op: "UpdateItem",
      when: setsStatus("expired"),
      times: 1,
      action: { kind: "delay", ms: 200 },
    });
    const summary = await sweepDue(r.broker.deps, { budgetMs: 10_000 });
    expect(summary.expired).toBe(3);
    expect((await expireEvents(r)).length).toBe(3);
  });
});
