// fromCredentialBroker as an AWS SDK v3 credential provider: first use, caching, refresh 5 minutes before
// expiry (a fixed clock moved by hand, no sleeping), one exchange for a burst of callers, typed errors.

import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fromCredentialBroker } from "../../lib/client/credential-provider.ts";
import { BrokerRequestError, TokenSourceError } from "../../lib/client/errors.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

// Start at the real time so the SDK's own expiry checks (wall clock) agree with the broker's.
const clock = fixedClock(Math.floor(Date.now() / 1000) * 1000);
let broker: ClientTestBroker;
const assumeRoles = () => broker.aws.callsTo("AssumeRole").length;

beforeAll(async () => {
  broker = await startClientTestBroker({ clock });
});
afterAll(() => broker?.close());

const provider = (extra: Partial<Parameters<typeof fromCredentialBroker>[0]> = {}) =>
  fromCredentialBroker({
    url: broker.dev.url,
    task: "deploy-web",
    tokenProvider: () => broker.mint(),
    clock,
    ...extra,
  });

describe("fromCredentialBroker", () => {
  it("exchanges on first use, then serves the cached credentials", async () => {
    const credentials = provider();
    const before = assumeRoles();
    const first = await credentials();
    expect(assumeRoles()).toBe(before + 1);
    expect(first.accessKeyId).toMatch(/^ASIA/);
    expect(first.expiration.getTime()).toBe(clock.now() + 900_000);
    expect(await credentials()).toBe(first);
    expect(assumeRoles()).toBe(before + 1);
  });

  it("refreshes once it is within 5 minutes of expiry, not before", async () => {
    const credentials = provider();
    const first = await credentials();
    const expiry = first.expiration.getTime();

    clock.set(expiry - 301_000);
    expect(await credentials()).toBe(first);

    clock.set(expiry - 299_000);
    const second = await credentials();
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(second.expiration.getTime()).toBe(clock.now() + 900_000);
    expect(await credentials()).toBe(second);
  });

  it("refreshes on forceRefresh, as the SDK asks after an expired-token error", async () => {
    const credentials = provider();
    const first = await credentials();
    const second = await credentials({ forceRefresh: true });
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
  });

  it("shares one exchange among concurrent callers", async () => {
    const credentials = provider();
    const before = assumeRoles();
    const all = await Promise.all(Array.from({ length: 8 }, () => credentials()));
    expect(assumeRoles()).toBe(before + 1);
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
  });

  it("signs S3 requests when given to an S3Client", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const s3 = await listen((req, res) => {
      seen.push(req.headers);
      req.resume().on("end", () => res.writeHead(200).end());
    });
    try {
      const credentials = provider();
      const client = new S3Client({
        region: "us-east-1",
        endpoint: url(s3),
        forcePathStyle: true,
        credentials,
      });
      await client.send(new PutObjectCommand({ Bucket: "acme-web", Key: "k", Body: "x" }));
      await client.send(new PutObjectCommand({ Bucket: "acme-web", Key: "k2", Body: "y" }));
      const c = await credentials();
      expect(seen.map((h) => h.authorization?.match(/Credential=(\w+)\//)?.[1])).toEqual([
        c.accessKeyId,
        c.accessKeyId,
      ]);
      expect(seen[0]?.["x-amz-security-token"]).toBe(c.sessionToken);
    } finally {
      s3.close();
    }
  });

  it("surfaces a denial through the SDK as a BrokerRequestError with the decision id", async () => {
    const s3 = await listen((_req, res) => res.writeHead(200).end());
    try {
      const credentials = provider({
        tokenProvider: () => broker.mint("repo:acme/reports:ref:refs/heads/main", {}),
      });
      const client = new S3Client({
        region: "us-east-1",
        endpoint: url(s3),
        forcePathStyle: true,
        credentials,
        maxAttempts: 1,
      });
      const err = await client
        .send(new PutObjectCommand({ Bucket: "b", Key: "k", Body: "x" }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BrokerRequestError);
      expect(err).toMatchObject({ status: 403, error: "access_denied", denied: true });
      expect((err as BrokerRequestError).decisionId).toMatch(/\S/);
    } finally {
      s3.close();
    }
  });

  it("fails closed when a refresh fails, and retries on the next call", async () => {
    const credentials = provider();
    const first = await credentials();
    clock.set(first.expiration.getTime() - 60_000);
    // Three failures: the STS client's own retries all fail, so the broker answers 503 and issues nothing.
    broker.aws.failNext("AssumeRole", { code: "ServiceUnavailable", status: 503, times: 3 });
    const err = await credentials().catch((e: unknown) => e);
    expect(err).toMatchObject({
      name: "BrokerRequestError",
      error: "temporarily_unavailable",
      retryable: true,
    });
    const next = await credentials();
    expect(next.accessKeyId).not.toBe(first.accessKeyId);
  });

  it("refuses a jwt task without issuing anything", async () => {
    const before = assumeRoles();
    const err = await provider({ task: "read-reports" })().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "BrokerRequestError", status: 400, error: "invalid_request" });
    expect(assumeRoles()).toBe(before);
    const grants = await broker.dev.deps.store.listGrants({ limit: 1000 });
    expect(grants.items.filter((g) => g.task === "read-reports")).toEqual([]);
  });

  it("reads a token file afresh on every exchange, as Kubernetes rotates it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-provider-"));
    const file = join(dir, "token");
    await writeFile(file, await broker.mint());
    const credentials = fromCredentialBroker({
      url: broker.dev.url,
      task: "deploy-web",
      tokenFile: file,
      clock,
    });
    const first = await credentials();
    // The file now holds another workload's token: the refresh presents it, and that workload is denied.
    clock.set(first.expiration.getTime() - 1000);
    await writeFile(file, await broker.mint("repo:acme/reports:ref:refs/heads/main", {}));
    await expect(credentials()).rejects.toMatchObject({ error: "access_denied" });
  });

  it("reports a missing token file as a TokenSourceError", async () => {
    const err = await fromCredentialBroker({
      url: broker.dev.url,
      task: "deploy-web",
      tokenFile: "/nonexistent/token",
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TokenSourceError);
    expect((err as Error).message).toContain("/nonexistent/token does not exist");
  });

  it.each([
    [{}, /exactly one of token, tokenFile, tokenProvider/],
    [{ token: "a", tokenFile: "/f" }, /exactly one of/],
    [{ token: "a", task: "" }, /needs a task/],
  ])("rejects misuse %j with a TypeError", (extra, message) => {
    expect(() => fromCredentialBroker({ url: "https://broker.example.com", task: "t", ...extra })).toThrow(
      TypeError,
    );
    expect(() => fromCredentialBroker({ url: "https://broker.example.com", task: "t", ...extra })).toThrow(
      message,
    );
  });
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<Server> {
  const server = createServer(handler);
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  return server;
}
const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
