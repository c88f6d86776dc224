// Clients request their OIDC token for the audience the broker publishes, so jobs need no audience setting.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "../../lib/client/broker-client.ts";

let url: string;
let published: unknown = "payments-broker";
const server = createServer((_req, res) => {
  res
    .writeHead(200, { "content-type": "application/json" })
    .end(JSON.stringify({ issuer: url, credbroker_audience: published }));
});

beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("the broker's published audience", () => {
  it("is read from the metadata's credbroker_audience", async () => {
    published = "payments-broker";
    expect(await new BrokerClient({ url }).audience()).toBe("payments-broker");
  });

  it("falls back to the contract's default when the broker does not publish one or is unreachable", async () => {
    published = undefined;
    expect(await new BrokerClient({ url }).audience()).toBe("credbroker");
    expect(await new BrokerClient({ url: "http://127.0.0.1:9" }).audience()).toBe("credbroker");
  });
});
