// A throw-away PostgreSQL cluster for tests: initdb + pg_ctl run as the `postgres` OS user (the server
// refuses to run as root) on a data and socket dir it owns under a temp dir, on a free loopback port, with
// every statement logged to a file the test can read. Stop it in afterAll; skip only without the binaries.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const SUPERUSER_PASSWORD = "test-superuser-password";

/** The server binaries' directory (Debian: /usr/lib/postgresql/<major>/bin), or undefined when absent. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  for (const major of readdirSync(root).sort().reverse()) {
    const dir = join(root, major, "bin");
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"))) return dir;
  }
  return undefined;
}

function osUser(name: string): { uid: number; gid: number } | undefined {
  try {
    return {
      uid: Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim()),
      gid: Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim()),
    };
  } catch {
    return undefined;
  }
}

/** Why the PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresUnavailable(): string | undefined {
  if (!postgresBinDir())
    return "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)";
  if (process.getuid?.() === 0 && !osUser("postgres")) return "no `postgres` OS user to run the server as";
  return undefined;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface TestCluster {
  host: string;
  port: number;
  bin: string;
  /** The data directory (owned by the postgres OS user). */
  dataDir: string;
  /** Replaces the server's TLS certificate and key and reloads the config (TLS clusters only). */
  replaceTls(tls: { cert: string; key: string }): Promise<void>;
  /** postgres://postgres:…@127.0.0.1:port/postgres */
  superuserUrl: string;
  /** Runs SQL as the superuser (setup and inspection, never the code under test). */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(
    text: string,
    values?: unknown[],
    database?: string,
  ): Promise<T[]>;
  /** The server's log so far (log_statement = all). */
  log(): string;
  start(): Promise<void>;
  stop(mode?: "fast" | "immediate"): Promise<void>;
  destroy(): Promise<void>;
}

export interface TestClusterOptions {
  /** PEM server certificate and key: the server then accepts TLS (ssl = on). */
  tls?: { cert: string; key: string };
}

export async function startTestCluster(clusterOptions: TestClusterOptions = {}): Promise<TestCluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresUnavailable());
  const root = mkdtempSync(join(tmpdir(), "credbroker-pg-"));
  const data = join(root, "data");
  const sockets = join(root, "sockets");
  const logFile = join(root, "server.log");
  const pwFile = join(root, "pw");
  writeFileSync(pwFile, `${SUPERUSER_PASSWORD}\n`);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? osUser("postgres") : undefined;
  if (owner) {
    chownSync(root, owner.uid, owner.gid);
    chownSync(pwFile, owner.uid, owner.gid);
  }
  chmodSync(root, 0o755);
  const run = (tool: string, args: string[]) =>
    execFileSync(
      owner ? "runuser" : join(bin, tool),
      owner ? ["-u", "postgres", "--", join(bin, tool), ...args] : args,
      {
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
        timeout: 60_000,
      },
    );
  run("initdb", [
    "-D",
    data,
    "-U",
    "postgres",
    "--pwfile",
    pwFile,
    "--auth-local=trust",
    "--auth-host=scram-sha-256",
    "--no-sync",
    "-E",
    "UTF8",
    "--locale=C",
  ]);
  execFileSync(owner ? "runuser" : "mkdir", owner ? ["-u", "postgres", "--", "mkdir", sockets] : [sockets]);
  const tlsOptions: string[] = [];
  if (clusterOptions.tls) {
    const cert = join(data, "server.crt");
    const key = join(data, "server.key");
    writeFileSync(cert, clusterOptions.tls.cert);
    writeFileSync(key, clusterOptions.tls.key, { mode: 0o600 });
    if (owner) for (const f of [cert, key]) chownSync(f, owner.uid, owner.gid);
    tlsOptions.push("-c ssl=on", `-c ssl_cert_file=${cert}`, `-c ssl_key_file=${key}`);
  }
  const port = await freePort();
  const options = [
    `-c port=${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${sockets}`,
    "-c log_statement=all",
    "-c logging_collector=off",
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=60",
    "-c shared_buffers=16MB",
    ...tlsOptions,
  ].join(" ");
  const start = async () => {
    run("pg_ctl", ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "60", "start"]);
  };
  const stop = async (mode: "fast" | "immediate" = "fast") => {
    run("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
  };
  await start();
  const superuserUrl = `postgres://postgres:${SUPERUSER_PASSWORD}@127.0.0.1:${port}/postgres`;
  let running = true;
  const cluster: TestCluster = {
    host: "127.0.0.1",
    port,
    bin,
    dataDir: data,
    async replaceTls(tls) {
      writeFileSync(join(data, "server.crt"), tls.cert);
      writeFileSync(join(data, "server.key"), tls.key, { mode: 0o600 });
      await cluster.sql("SELECT pg_reload_conf()");
    },
    superuserUrl,
    async sql(text, values, database = "postgres") {
      const client = new pg.Client({ connectionString: superuserUrl.replace(/\/postgres$/, `/${database}`) });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    start: async () => {
      await start();
      running = true;
    },
    stop: async (mode) => {
      await stop(mode);
      running = false;
    },
    destroy: async () => {
      if (running) await stop("immediate").catch(() => undefined);
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}
