// Task end fails closed (CONTRACT §13, §4): a table that cannot say whether a job ended refuses the token
// (503, nothing issued); a delivery that cannot be handled answers 503 and is not remembered, so the CI
// system's redelivery ends the grants.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import { type DynamoFaultProxy, startDynamoFaultProxy } from "../fixtures/dynamo-fault-proxy.ts";
import {
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";
import { EVENTS_CONFIG, EXAMPLE_JOB_CLAIMS, githubDeliverer } from "./in-process.ts";
import { githubExample } from "./support.ts";

let proxy: DynamoFaultProxy;
let tables = 0;

beforeAll(async () => {
  proxy = await startDynamoFaultProxy((await sharedDynamo()).endpoint);
});
afterAll(async () => {
  await proxy?.close();
  await closeSharedDynamo();
});
beforeEach(() => proxy.clear());

async function rig(): Promise<{ broker: TestBroker; truth: DynamoGrantStore }> {
  const dynamo = await sharedDynamo();
  const tableName = `evfault${process.pid}x${++tables}`;
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoGrantStore({ client: localDynamoClient(proxy.url, { maxAttempts: 1 }), tableName });
  const broker = await createTestBroker({ store, config: (i) => baseConfig(i, { events: EVENTS_CONFIG }) });
  return { broker, truth: new DynamoGrantStore({ client: dynamo.client, tableName }) };
}

describe("task end when DynamoDB fails", () => {
  it("answers 503 to a CI token when the ended-task read fails, and records nothing", async () => {
    const { broker, truth } = await rig();
    proxy.add({ op: "BatchGetItem", action: { kind: "error500" } });
    const token = await broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    const refused = await broker.exchange(token);
    expect(refused).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
    expect((await truth.listGrants()).items).toEqual([]);
    proxy.clear();
    expect((await broker.exchange(token)).status).toBe(200);
  });

  it.each([
    [
      "the delivery's claim",
      { op: "PutItem", when: (b: Record<string, unknown>) => JSON.stringify(b).includes("DELIVERY#") },
    ],
    ["the task's grants query", { op: "Query" }],
  ] as const)("answers 503 when %s fails, and the redelivery ends the grants", async (_, rule) => {
    const { broker, truth } = await rig();
    const token = await broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    const grant = (await broker.exchange(token)).body["grant_id"] as string;
    const deliver = githubDeliverer(broker);
    proxy.add({ ...rule, action: { kind: "error500" } });
    const failed = await deliver("workflow_job", githubExample("workflow_job", "completed"));
    expect(failed).toMatchObject({ status: 503, body: { error: "temporarily_unavailable" } });
    expect((await truth.getGrant(grant))?.status).toBe("active");
    proxy.clear();
    const again = await deliver("workflow_job", githubExample("workflow_job", "completed"), failed.id);
    expect(again.body).toEqual({ ended: 1, grants: [grant] });
  });
});
