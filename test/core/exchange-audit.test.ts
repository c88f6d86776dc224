// The token path sends its audit write beside the grant's activation (lib/core/exchange.ts). What a client
// and an auditor see must not change: a credential only with an active grant, exactly one stored audit
// event per request with its real outcome (also when the activation fails), and a failed audit write never
// changes the response but is logged. Faults come from the proxy in front of dynalite.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import {
  type DynamoFaultProxy,
  isAuditPut,
  setsStatus,
  startDynamoFaultProxy,
} from "../fixtures/dynamo-fault-proxy.ts";
import {
  closeSharedDynamo,
  createTestBroker,
  NOW,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";

let proxy: DynamoFaultProxy;
let tables = 0;

interface Rig {
  broker: TestBroker;
  /** The same table read around the proxy: what is really stored. */
  truth: DynamoGrantStore;
  token: string;
}

async function rig(): Promise<Rig> {
  const dynamo = await sharedDynamo();
  const tableName = `exaudit${process.pid}x${++tables}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoGrantStore({ client: localDynamoClient(proxy.url), tableName });
  const broker = await createTestBroker({ store });
  const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
  return { broker, truth: new DynamoGrantStore({ client: dynamo.client, tableName }), token };
}

async function storedTokenEvents(truth: DynamoGrantStore): Promise<AuditEvent[]> {
  const page = await truth.listAudit({ sinceMs: NOW - 60_000, untilMs: NOW + 60_000 });
  return page.items.filter((e) => e.kind === "token");
}

const auditLines = (broker: TestBroker) =>
  broker.logs
    .map((l) => JSON.parse(l) as { message: string; audit?: AuditEvent; eventId?: string })
    .filter((l) => l.message === "audit");

/** Waits (bounded) until `check` holds; false if it never did. */
async function eventually(check: () => Promise<boolean>, tries = 500): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

beforeAll(async () => {
  proxy = await startDynamoFaultProxy((await sharedDynamo()).endpoint);
});
afterAll(async () => {
  await proxy?.close();
  await closeSharedDynamo();
});
beforeEach(() => proxy.clear());

describe("the issue's audit write beside the grant activation", () => {
  it("stores the audit event while the activation is still unanswered, and answers 200 once it is", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "gate" } });
    let answered = false;
    const pending = r.broker.exchange(r.token).finally(() => {
      answered = true;
    });
    const storedEarly = await eventually(async () => (await storedTokenEvents(r.truth)).length === 1);
    expect(storedEarly).toBe(true);
    expect(answered).toBe(false);
    await proxy.release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect((await r.truth.getGrant(res.body["grant_id"] as string))?.status).toBe("active");
    const events = await storedTokenEvents(r.truth);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: "issue", grantId: res.body["grant_id"] });
  });

  it("stores exactly one audit event, with outcome error, when the activation write fails", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    expect(res.body).not.toHaveProperty("access_token");
    const [grant] = (await r.truth.listGrants()).items;
    expect(grant?.status).toBe("issuing");
    const events = await storedTokenEvents(r.truth);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      outcome: "error",
      errorCode: "dependency_unavailable",
      grantId: grant?.grantId,
      workload: "web-ci",
    });
    // One audit line in the log too, with the same outcome.
    expect(auditLines(r.broker).map((l) => l.audit?.outcome)).toEqual(["error"]);
  });

  it("keeps the error outcome when the early audit write is answered only after the activation failed", async () => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isAuditPut, times: 1, action: { kind: "gate" } });
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "throttle" } });
    const pending = r.broker.exchange(r.token);
    // Both activation attempts have failed while the first audit write is still held.
    expect(
      await eventually(async () => proxy.injected.filter((i) => i === "UpdateItem:throttle").length >= 2),
    ).toBe(true);
    await proxy.release();
    const res = await pending;
    expect(res.status).toBe(503);
    const events = await storedTokenEvents(r.truth);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ outcome: "error", errorCode: "dependency_unavailable" });
  });

  it("answers exactly as it would have when the audit write fails, and logs the failure with the event", async () => {
    const control = await rig();
    const ok = await control.broker.exchange(control.token);
    expect(ok.status).toBe(200);

    const r = await rig();
    proxy.add({ op: "PutItem", when: isAuditPut, action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(Object.keys(ok.body).sort());
    const { access_token: _a, grant_id: _g, ...rest } = res.body;
    const { access_token: _b, grant_id: _h, ...restOk } = ok.body;
    expect(rest).toEqual(restOk);
    expect((await r.truth.getGrant(res.body["grant_id"] as string))?.status).toBe("active");
    expect(await storedTokenEvents(r.truth)).toEqual([]);
    const [line] = auditLines(r.broker);
    expect(line?.audit).toMatchObject({ outcome: "issue", grantId: res.body["grant_id"] });
    const failure = r.broker.logs
      .map((l) => JSON.parse(l) as { level: string; message: string; eventId?: string })
      .find((l) => l.message === "audit event not stored");
    expect(failure).toMatchObject({ level: "error", eventId: line?.audit?.eventId });
  });

  it("answers 503 and keeps the event in the log when both the activation and the audit write fail", async () => {
    const r = await rig();
    proxy.add({ op: "PutItem", when: isAuditPut, action: { kind: "throttle" } });
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), action: { kind: "throttle" } });
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(503);
    expect(await storedTokenEvents(r.truth)).toEqual([]);
    expect(auditLines(r.broker).map((l) => l.audit?.outcome)).toEqual(["error"]);
    expect(r.broker.logs.some((l) => l.includes('"audit event not stored"'))).toBe(true);
  });
});

describe("the activation asks for nothing back", () => {
  it("activates the grant, and the response carries what the request itself holds", async () => {
    const r = await rig();
    const res = await r.broker.exchange(r.token);
    expect(res.status).toBe(200);
    const [grant] = (await r.truth.listGrants()).items;
    expect(grant?.status).toBe("active");
    expect(res.body).toHaveProperty("access_token");
    expect(Date.parse(grant!.expiresAt)).toBe(NOW + (res.body["expires_in"] as number) * 1000);
  });

  it("when the activation lands but its answer is lost, the retry recognises its own write and hands the credential out", async () => {
    const r = await rig();
    proxy.add({ op: "UpdateItem", when: setsStatus("active"), times: 1, action: { kind: "lose-answer" } });
    const res = await r.broker.exchange(r.token);
    expect(proxy.injected).toContain("UpdateItem:lose-answer");
    expect(res.status).toBe(200);
    expect(res.body).toHaveProperty("access_token");
    const [grant] = (await r.truth.listGrants()).items;
    expect(grant?.status).toBe("active");
    const events = await storedTokenEvents(r.truth);
    expect(events.map((e) => e.outcome)).toEqual(["issue"]);
  });
});
