// Nothing is issued without a durable grant: a store that cannot write means 503 and no credential.
import { afterAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { localDynamoClient } from "../../lib/local/dynalite.ts";
import { closeSharedDynamo, createTestBroker, NOW, newStore } from "../support/broker.ts";

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
});
