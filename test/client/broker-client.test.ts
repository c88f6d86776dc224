// BrokerClient against `credbroker dev` over real HTTP: jwt and aws-sts exchanges, release, introspection,
// and the typed errors a caller branches on.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerClient } from "../../lib/client/broker-client.ts";
import { BrokerRequestError, BrokerResponseInvalid, BrokerUnreachable } from "../../lib/client/errors.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

let broker: ClientTestBroker;
let client: BrokerClient;

beforeAll(async () => {
  broker = await startClientTestBroker();
  client = new BrokerClient({ url: broker.dev.url });
});
afterAll(() => broker?.close());

describe("BrokerClient", () => {
  it("exchanges an identity token for a jwt, introspects it, releases it", async () => {
    const subjectToken = await broker.mint();
    const response = await client.exchange({ subjectToken, task: "read-reports" });
    expect(response).toMatchObject({ token_type: "Bearer", scope: "read-reports", expires_in: 300 });
    expect(response.credentials).toBeUndefined();

    expect(await client.introspect(response.access_token)).toMatchObject({
      active: true,
      sub: "web-ci",
      jti: response.grant_id,
    });
    await client.release({ token: response.grant_id, subjectToken });
    expect(await client.introspect(response.access_token)).toEqual({ active: false });
    expect((await broker.dev.deps.store.getGrant(response.grant_id))?.status).toBe("revoked");
  });

  it("exchanges for AWS credentials that STS issued", async () => {
    const response = await client.exchange({
      subjectToken: await broker.mint(),
      task: "deploy-web",
      purpose: "release 1.2",
    });
    expect(response.token_type).toBe("N_A");
    const assumed = broker.aws.callsTo("AssumeRole").at(-1)!;
    expect(assumed.params["RoleSessionName"]).toBe(`cb-${response.grant_id}`);
    expect(response.credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(response.access_token).toBe(response.credentials?.SessionToken);
  });

  it("refuses a denied task with a typed error carrying the decision id", async () => {
    // reports-job may not deploy: no permit matches, so the default deny applies.
    const token = await broker.mint("repo:acme/reports:ref:refs/heads/main", {});
    const err = await client.exchange({ subjectToken: token, task: "deploy-web" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerRequestError);
    const e = err as BrokerRequestError;
    expect(e).toMatchObject({ status: 403, error: "access_denied", denied: true, retryable: false });
    expect(e.decisionId).toMatch(/\S/);
    expect(e.message).toContain(e.decisionId);
    expect(e.message).not.toContain(token);
  });

  it("reports an unknown task as invalid_scope", async () => {
    const err = await client
      .exchange({ subjectToken: await broker.mint(), task: "no-such-task" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "BrokerRequestError", status: 400, error: "invalid_scope" });
  });

  it("refuses requested_token_type that does not fit the task, issuing nothing", async () => {
    const before = broker.aws.callsTo("AssumeRole").length;
    const err = await client
      .exchange({
        subjectToken: await broker.mint(),
        task: "read-reports",
        requestedTokenType: "urn:credbroker:token-type:aws-credentials",
      })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 400, error: "invalid_request" });
    expect(broker.aws.callsTo("AssumeRole").length).toBe(before);
  });

  it("reports a broker that is not listening as BrokerUnreachable", async () => {
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((res) => server.close(() => res()));
    const err = await new BrokerClient({ url: `http://127.0.0.1:${port}` })
      .exchange({ subjectToken: "x.y.z", task: "t" })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BrokerUnreachable);
    expect((err as BrokerUnreachable).reason).toBe("ECONNREFUSED");
  });

  it("times out a broker that never answers", async () => {
    const server = createServer(() => {});
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await new BrokerClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 200 })
        .exchange({ subjectToken: "x.y.z", task: "t" })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "BrokerUnreachable", reason: "no answer within 200 ms" });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("does not follow a redirect with the subject token", async () => {
    let followed = false;
    const server = createServer((req, res) => {
      if (req.url === "/elsewhere") followed = true;
      res.writeHead(307, { location: "/elsewhere" }).end();
    });
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await new BrokerClient({ url: `http://127.0.0.1:${port}` })
        .exchange({ subjectToken: "x.y.z", task: "t" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerUnreachable);
      expect(followed).toBe(false);
    } finally {
      server.close();
    }
  });

  it("rejects a 200 answer that is not the contract's", async () => {
    const server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end('{"access_token":"a"}'),
    );
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const { port } = server.address() as AddressInfo;
    try {
      const err = await new BrokerClient({ url: `http://127.0.0.1:${port}` })
        .exchange({ subjectToken: "x.y.z", task: "t" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerResponseInvalid);
    } finally {
      server.close();
    }
  });

  it.each([
    ["http://broker.example.com", /must be https/],
    ["https://user:pw@broker.example.com", /must not carry credentials/],
    ["not a url", /is not a URL/],
  ])("refuses the broker url %s", (url, message) => {
    expect(() => new BrokerClient({ url })).toThrow(message);
  });
});
