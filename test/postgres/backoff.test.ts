// A database that does not answer costs one connection attempt per backoff period, not one per pending
// revocation: the sweep's retries of many grants on a dead database stay bounded.
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { PgAdmin } from "../../lib/postgres/pg-admin.ts";

describe("PgAdmin backoff", () => {
  let server: Server;
  let port: number;
  let connections = 0;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts and hangs up at once: a database that is there but never answers a login.
    server = createServer((socket) => {
      connections++;
      sockets.push(socket);
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it("backs off after a failure, doubling up to the cap, and tries again once the wait is over", async () => {
    let now = 1_000_000;
    const admin = new PgAdmin({
      databases: [
        { name: "db", host: "127.0.0.1", port, database: "x", tls: "disable", admin: { urlEnv: "URL" } },
      ],
      env: { URL: "postgres://admin:pw@127.0.0.1/x" },
      log: silentLogger,
      secrets: () => {
        throw new Error("unused");
      },
      backoffMs: 1_000,
      maxBackoffMs: 4_000,
      now: () => now,
    });
    const attempt = () =>
      admin
        .withSession("db", (s) => s.query({ text: "SELECT 1" }))
        .then(
          () => "ok",
          (err: { name: string; detail?: string }) => `${err.name}: ${err.detail}`,
        );
    try {
      expect(await attempt()).toMatch(/^PostgresUnreachable: /);
      expect(connections).toBe(1);
      // Fifty pending revocations in one sweep: none of them opens a connection during the backoff.
      const results = await Promise.all(Array.from({ length: 50 }, attempt));
      expect(new Set(results)).toEqual(new Set(["PostgresUnreachable: backing off after failures"]));
      expect(connections).toBe(1);
      now += 1_000;
      await attempt(); // second failure: the wait doubles to 2 s
      expect(connections).toBe(2);
      now += 1_999;
      expect(await attempt()).toBe("PostgresUnreachable: backing off after failures");
      now += 1;
      await attempt(); // third failure: 4 s, the cap
      now += 4_000;
      await attempt();
      now += 4_000;
      await attempt();
      expect(connections).toBe(5);
    } finally {
      await admin.close();
    }
  });
});
