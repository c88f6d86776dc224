// Nothing is issued without a durable grant: a store that cannot write means 503 and no credential.
import { UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import { closeSharedDynamo, createTestBroker, NOW, newStore, sharedDynamo } from "../support/broker.ts";

afterAll(closeSharedDynamo);

describe("when DynamoDB fails", () => {
  it("answers 503 temporarily_unavailable and issues nothing when the grant record cannot be written", async () => {
    const good = await newStore();
    const broken = Object.create(good) as DynamoGrantStore;
    broken.createGrant = async () => {
      throw Object.assign(new Error("Service unavailable"), { name: "ServiceUnavailable" });
    };
    const broker = await createTestBroker({ store: broken });
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
    expect(res.body["access_token"]).toBeUndefined();
    expect((await good.listGrants()).items).toHaveLength(0);
  });

  it("withholds the credential when the final update fails, leaving an issuing grant for the sweep", async () => {
    const good = await newStore();
    const broken = Object.create(good) as DynamoGrantStore;
    broken.transition = async (id: string, from: Grant["status"], to: Grant["status"]) => {
      if (to === "active") throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
      return good.transition(id, from, to);
    };
    const broker = await createTestBroker({ store: broken });
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expect(res.body["access_token"]).toBeUndefined();
    const grants = (await good.listGrants()).items;
    expect(grants.map((g) => g.status)).toEqual(["issuing"]);
  });

  it("answers 503, never 500, when DynamoDB is unreachable", async () => {
    const unreachable = new DynamoGrantStore({
      client: localDynamoClient("http://127.0.0.1:9"),
      tableName: "nope",
    });
    const broker = await createTestBroker({ store: unreachable });
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
    expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|at .*\.ts/);
  });

  it("treats a grant record that does not parse as a store fault: introspection and release fail closed", async () => {
    const store = await newStore();
    const broker = await createTestBroker({ store });
    const subject = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const issued = await broker.exchange(subject);
    expect(issued.status).toBe(200);
    const grantId = issued.body["grant_id"] as string;
    // Someone (or something) wrote a status the broker does not know into the record.
    const d = await sharedDynamo();
    await d.client.send(
      new UpdateItemCommand({
        TableName: (store as unknown as { table: string }).table,
        Key: { pk: { S: `GRANT#${grantId}` }, sk: { S: "GRANT" } },
        UpdateExpression: "SET #s = :s",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":s": { S: "enabled" } },
      }),
    );
    await expect(store.getGrant(grantId)).rejects.toThrow(/status/);

    const introspected = await broker.call("introspect", { token: issued.body["access_token"] as string });
    expect(introspected.status).toBe(503);
    expect(introspected.body).toMatchObject({ error: "temporarily_unavailable" });
    expect(introspected.body["active"]).toBeUndefined();
    const released = await broker.call("revoke", { token: grantId, subject_token: subject });
    expect(released.status).toBe(503);
  });
});
