// The DynamoDB approval store on dynalite: its own item type with a TTL, one conditional write per change,
// and the sparse keys that let `GET /approvals` and the sweep read only what is open.
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { marshall, unmarshall } from "../../lib/aws/marshall.ts";
import { newRequest } from "../../lib/core/approvals/state.ts";
import { ApprovalVersionConflict } from "../../lib/core/approvals/store.ts";
import { closeSharedDynamo, NOW, newStore, sharedDynamo } from "../support/broker.ts";

afterAll(closeSharedDynamo);

const request = (approvalId: string, nowMs = NOW) =>
  newRequest(
    {
      approvalId,
      workload: { name: "agent", owner: "team@acme.test" },
      subject: "agent:ops",
      issuer: "ci",
      claimTags: { sub: "agent:ops" },
      subjectTokenSha256: "ab".repeat(32),
      requestSha256: "cd".repeat(32),
      task: "rotate",
      purpose: "why",
      durationSeconds: 300,
      sourceIp: "127.0.0.1",
      decisionId: "d1",
      approval: { approvals: 1, expiresInSeconds: 900 },
    },
    nowMs,
  );

describe("DynamoApprovalStore", () => {
  it("stores a request as its own item type with a ttl after its expiry", async () => {
    const store = await newStore();
    await store.approvals.create(request("0000000000aaaaaaaaaaaaaaa1"));
    const d = await sharedDynamo();
    const out = await d.client.send(
      new GetItemCommand({
        TableName: (store as unknown as { table: string }).table,
        Key: marshall({ pk: "APPROVAL#0000000000aaaaaaaaaaaaaaa1", sk: "APPROVAL" }),
      }),
    );
    const item = unmarshall(out.Item!);
    expect(item["type"]).toBe("approval");
    expect(item["ttl"]).toBe(Math.floor((NOW + 900_000) / 1000) + 400 * 86_400);
    await expect(store.approvals.create(request("0000000000aaaaaaaaaaaaaaa1"))).rejects.toThrow();
  });

  it("writes a change only over the version it read", async () => {
    const store = await newStore();
    const r = request("0000000000aaaaaaaaaaaaaaa2");
    await store.approvals.create(r);
    await store.approvals.replace({ ...r, intervalSeconds: 10, version: 1 });
    await expect(store.approvals.replace({ ...r, intervalSeconds: 15, version: 1 })).rejects.toBeInstanceOf(
      ApprovalVersionConflict,
    );
    expect((await store.approvals.get(r.approvalId))?.intervalSeconds).toBe(10);
  });

  it("lists a request as pending and due only while it waits", async () => {
    const store = await newStore();
    const r = request("0000000000aaaaaaaaaaaaaaa3");
    await store.approvals.create(r);
    expect((await store.approvals.listPending()).map((x) => x.approvalId)).toEqual([r.approvalId]);
    expect((await store.approvals.listDue(NOW)).items).toEqual([]);
    expect((await store.approvals.listDue(NOW + 900_000)).items.map((x) => x.approvalId)).toEqual([
      r.approvalId,
    ]);
    await store.approvals.replace({ ...r, status: "denied", decidedAtMs: NOW + 1, version: 1 });
    expect(await store.approvals.listPending()).toEqual([]);
    expect((await store.approvals.listDue(NOW + 900_000)).items).toEqual([]);
    expect((await store.approvals.listRequested(NOW - 1, NOW + 1)).map((x) => x.approvalId)).toEqual([
      r.approvalId,
    ]);
  });

  it("moves the open slot only from what the writer saw", async () => {
    const store = await newStore();
    expect(await store.approvals.claimOpen("k", "a", undefined, NOW)).toBe(true);
    expect(await store.approvals.claimOpen("k", "b", undefined, NOW)).toBe(false);
    expect(await store.approvals.claimOpen("k", "b", "x", NOW)).toBe(false);
    expect(await store.approvals.claimOpen("k", "b", "a", NOW)).toBe(true);
    expect(await store.approvals.openRequest("k")).toBe("b");
  });
});
