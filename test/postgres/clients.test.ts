// The clients of a postgres task end to end, on the real `credbroker dev` process with a database in its
// config: `exchange --format env` gives the libpq variables psql logs in with unchanged, and the GitHub
// Action exports them (the password masked) and its post step ends the user.
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { demoConfigFor } from "../support/dev.ts";
import { type DevProcess, freePortPair, runCli, startDevProcess } from "../support/dev-process.ts";
import { postgresUnavailable, startTestCluster, type TestCluster } from "../support/postgres.ts";
import { ADMIN_ENV, ADMIN_PASSWORD, provision } from "./support.ts";

const unavailable = postgresUnavailable();
const SUB = "repo:acme/web:ref:refs/heads/main";
const TSX = pathToFileURL(resolve("node_modules/tsx/dist/loader.mjs")).href;

/** Reads `export NAME='value'` lines as a shell would. */
function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^export ([A-Z_]+)='((?:[^']|'\\'')*)'$/gm))
    out[m[1]!] = m[2]!.replaceAll("'\\''", "'");
  return out;
}

/** A GITHUB_ENV-style file: `NAME<<DELIMITER`, value lines, `DELIMITER`. */
async function readCommandFile(path: string): Promise<Record<string, string>> {
  const lines = (await readFile(path, "utf8")).split("\n");
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/^([^<]+)<<(ghadelimiter_[0-9a-f-]+)$/);
    if (!m) continue;
    const end = lines.indexOf(m[2]!, i + 1);
    out[m[1]!] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return out;
}

describe.skipIf(unavailable !== undefined)("postgres clients against credbroker dev", () => {
  let cluster: TestCluster;
  let dev: DevProcess;
  let oidc: Server;

  const token = async () => {
    const out = await runCli(
      ["dev", "token", "--sub", SUB, "--claim", "repository=acme/web", "--url", dev.url],
      {},
    );
    expect(out.code).toBe(0);
    return out.stdout.trim();
  };
  const psql = (env: Record<string, string>, sql: string) =>
    execFileSync(join(cluster.bin, "psql"), ["-tAc", sql], {
      env: { PATH: process.env["PATH"] ?? "", PGCONNECT_TIMEOUT: "5", ...env },
      encoding: "utf8",
    }).trim();
  const roles = async () =>
    (await cluster.sql("SELECT rolname FROM pg_roles WHERE rolname LIKE 'cb\\_%'")).map((r) => r["rolname"]);

  beforeAll(async () => {
    cluster = await startTestCluster();
    await provision(cluster);
    const dataDir = await mkdtemp(join(tmpdir(), "cb-pg-dev-"));
    const port = await freePortPair();
    const configPath = await demoConfigFor(dataDir, port);
    // The README's recipe: a database and a postgres task added to the demo config, and a policy for it.
    const config = parse(await readFile(configPath, "utf8")) as Record<string, unknown[]>;
    config["databases"] = [
      {
        name: "reports-db",
        host: "127.0.0.1",
        port: cluster.port,
        database: "reports",
        tls: "disable",
        admin: { urlEnv: ADMIN_ENV },
      },
    ];
    config["tasks"]!.push({
      name: "read-reports-db",
      provider: "postgres",
      database: "reports-db",
      memberOf: ["reporting_read"],
      maxDurationSeconds: 900,
    });
    await writeFile(configPath, stringify(config));
    await writeFile(
      join(dataDir, "policies", "postgres.cedar"),
      `@id("web-ci-reads-reports-db")\npermit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"read-reports-db");\n`,
    );
    dev = await startDevProcess({
      sweepIntervalSeconds: 0,
      env: { [ADMIN_ENV]: `postgres://broker_admin:${ADMIN_PASSWORD}@127.0.0.1:${cluster.port}/reports` },
      restart: { dataDir, port, configPath },
    });
    // The Actions runtime's OIDC endpoint, answering with dev-issuer tokens for the job's subject.
    oidc = createServer((req, res) => {
      const audience = new URL(req.url!, "http://oidc").searchParams.get("audience") ?? "";
      fetch(`${dev.url}/dev/issuer/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: SUB, claims: { repository: "acme/web", aud: audience } }),
      })
        .then((r) => r.json() as Promise<{ token: string }>)
        .then(({ token: value }) =>
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value })),
        );
    });
    await new Promise<void>((r) => oidc.listen(0, "127.0.0.1", () => r()));
  }, 180_000);
  afterAll(async () => {
    oidc?.close();
    await dev?.stop();
    await cluster?.destroy();
  }, 60_000);

  it("`exchange --format env` prints the libpq variables and psql logs in with them unchanged", async () => {
    process.env["CB_TEST_SUBJECT"] = await token();
    const out = await runCli(
      [
        "exchange",
        "--url",
        dev.url,
        "--task",
        "read-reports-db",
        "--token-env",
        "CB_TEST_SUBJECT",
        "--format",
        "env",
      ],
      {},
    );
    expect(out.code).toBe(0);
    const vars = parseExports(out.stdout);
    expect(Object.keys(vars)).toEqual([
      "PGHOST",
      "PGPORT",
      "PGDATABASE",
      "PGUSER",
      "PGPASSWORD",
      "PGSSLMODE",
      "CREDBROKER_GRANT_ID",
    ]);
    expect(vars).toMatchObject({
      PGHOST: "127.0.0.1",
      PGPORT: String(cluster.port),
      PGDATABASE: "reports",
      PGSSLMODE: "disable",
    });
    expect(vars["PGUSER"]).toBe(`cb_${vars["CREDBROKER_GRANT_ID"]}`);
    expect(psql(vars, "SELECT current_user || ':' || body FROM report")).toBe(`${vars["PGUSER"]}:q3 revenue`);
  });

  it("the GitHub Action exports the libpq variables with the password masked, and its post step ends the user", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-pg-action-"));
    const files = {
      GITHUB_ENV: join(dir, "env"),
      GITHUB_OUTPUT: join(dir, "output"),
      GITHUB_STATE: join(dir, "state"),
    };
    for (const f of Object.values(files)) await writeFile(f, "");
    const oidcUrl = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/_apis/idtoken?api-version=2.0`;
    const step = (script: string, env: Record<string, string>) =>
      new Promise<{ code: number; stdout: string }>((res) =>
        execFile(
          process.execPath,
          ["--import", TSX, resolve(script)],
          {
            cwd: dir,
            env: {
              PATH: process.env["PATH"] ?? "",
              ...files,
              ACTIONS_ID_TOKEN_REQUEST_URL: oidcUrl,
              ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime-request-token",
              ...env,
            },
            timeout: 60_000,
          },
          (err, stdout) => res({ code: err ? 1 : 0, stdout }),
        ),
      );
    const main = await step("action/main.ts", { "INPUT_BROKER-URL": dev.url, INPUT_TASK: "read-reports-db" });
    expect(main.code).toBe(0);
    const exported = await readCommandFile(files.GITHUB_ENV);
    expect(Object.keys(exported).sort()).toEqual(
      ["CREDBROKER_GRANT_ID", "PGDATABASE", "PGHOST", "PGPASSWORD", "PGPORT", "PGSSLMODE", "PGUSER"].sort(),
    );
    expect(main.stdout).toContain(`::add-mask::${exported["PGPASSWORD"]}\n`);
    expect(main.stdout.replaceAll(`::add-mask::${exported["PGPASSWORD"]}`, "")).not.toContain(
      exported["PGPASSWORD"],
    );
    expect((await readCommandFile(files.GITHUB_OUTPUT))["token-type"]).toBe("postgres-credentials");
    expect(psql(exported, "SELECT count(*) FROM report")).toBe("1");
    expect(await roles()).toContain(exported["PGUSER"]);

    const state = await readCommandFile(files.GITHUB_STATE);
    const post = await step(
      "action/post.ts",
      Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
    );
    expect(post.code).toBe(0);
    expect(await roles()).not.toContain(exported["PGUSER"]);
  });
});
