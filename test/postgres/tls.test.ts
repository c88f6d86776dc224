// TLS as configured: `require` encrypts without checking the certificate; `verify-full` refuses an untrusted
// chain and a certificate that does not name the configured host, and connects when both hold. The CA is
// made trusted the way docs/postgres.md says for the RDS bundle: NODE_EXTRA_CA_CERTS, read at process start,
// so those cases run the adapter in a child process.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { PgAdmin } from "../../lib/postgres/pg-admin.ts";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
const unavailable = postgresUnavailable() ?? (hasOpenssl ? undefined : "openssl not found");
const TSX = pathToFileURL(resolve("node_modules/tsx/dist/loader.mjs")).href;
const ADMIN = "CB_TEST_PG_TLS_ADMIN";

/** A CA and a server certificate signed by it for the given subjectAltName. */
function makeCerts(dir: string) {
  const ssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  ssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=credbroker test CA",
  );
  const server = (san: string, name: string) => {
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    ssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      "/CN=db",
    );
    ssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
    return {
      cert: readFileSync(join(dir, `${name}.pem`), "utf8"),
      key: readFileSync(join(dir, `${name}.key`), "utf8"),
    };
  };
  return {
    ca: join(dir, "ca.pem"),
    forLoopback: server("IP:127.0.0.1", "loopback"),
    forOtherName: server("DNS:db.example.test", "other"),
  };
}

describe.skipIf(unavailable !== undefined)("postgres TLS", () => {
  let dir: string;
  let certs: ReturnType<typeof makeCerts>;
  let cluster: TestCluster;
  const adminUrl = () => `postgres://broker_admin:tls-admin-pw@127.0.0.1:${cluster.port}/postgres`;
  const entry = (tls: string) => ({
    name: "db",
    host: "127.0.0.1",
    port: cluster.port,
    database: "postgres",
    tls,
    admin: { urlEnv: ADMIN },
  });

  /** The adapter in a child process that trusts the test CA. */
  const probe = (tls: string) =>
    new Promise<Record<string, unknown>>((res) =>
      execFile(
        process.execPath,
        ["--import", TSX, resolve("test/fixtures/pg-tls-probe.ts"), JSON.stringify(entry(tls))],
        {
          env: { PATH: process.env["PATH"] ?? "", NODE_EXTRA_CA_CERTS: certs.ca, [ADMIN]: adminUrl() },
          timeout: 60_000,
        },
        (_err, stdout) => res(JSON.parse(stdout || "{}") as Record<string, unknown>),
      ),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "credbroker-pg-tls-"));
    certs = makeCerts(dir);
    cluster = await startTestCluster({ tls: certs.forLoopback });
    await cluster.sql("CREATE ROLE broker_admin LOGIN CREATEROLE PASSWORD 'tls-admin-pw'");
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it("require encrypts the connection even to a certificate nobody trusts", async () => {
    const admin = new PgAdmin({
      databases: [entry("require") as never],
      env: { [ADMIN]: adminUrl() },
      log: silentLogger,
      secrets: () => {
        throw new Error("unused");
      },
    });
    try {
      const rows = await admin.withSession("db", (s) =>
        s.query({ text: "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()" }),
      );
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await admin.close();
    }
  });

  it("verify-full refuses a server whose chain is not trusted", async () => {
    const admin = new PgAdmin({
      databases: [entry("verify-full") as never],
      env: { [ADMIN]: adminUrl() },
      log: silentLogger,
      secrets: () => {
        throw new Error("unused");
      },
    });
    try {
      await expect(admin.withSession("db", (s) => s.query({ text: "SELECT 1" }))).rejects.toMatchObject({
        name: "PostgresUnreachable",
      });
    } finally {
      await admin.close();
    }
  });

  it("verify-full connects when the CA is trusted and the certificate names the host", async () => {
    expect(await probe("verify-full")).toEqual({ ssl: true });
  });

  it("verify-full refuses a trusted certificate for another host name", async () => {
    await cluster.replaceTls(certs.forOtherName);
    try {
      expect(await probe("verify-full")).toEqual({ error: "ERR_TLS_CERT_ALTNAME_INVALID" });
      expect(await probe("require")).toEqual({ ssl: true });
    } finally {
      await cluster.replaceTls(certs.forLoopback);
    }
  });
});
