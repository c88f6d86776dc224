// `credbroker dev --port N` on the unmodified demo config: the config names the dev issuer on the default
// port 8787, and a dev token minted on any other port is still trusted. Runs the real CLI entry, as a
// user's `npm start -- --port 9000` does.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cleanEnv, runCli } from "../client/run-cli.ts";
import { freePort } from "../support/dev.ts";

let child: ChildProcess;
let dataDir: string;
let url: string;
let stdout = "";
let stderr = "";

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "cb-port-"));
  let port = await freePort();
  // 8787 is the one port this test must not use: there the demo config would match without any rewrite.
  while (port === 8787) port = await freePort();
  const env = cleanEnv();
  delete env["CREDBROKER_CONFIG"];
  child = spawn(
    process.execPath,
    [CLI, "dev", "--port", String(port), "--data-dir", dataDir, "--sweep-interval", "0"],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes("Ctrl-C stops.")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`credbroker dev exited ${code}: ${stderr}`)));
  });
  url = `http://127.0.0.1:${port}`;
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    // Ctrl-C (or SIGTERM) closes the server and dynalite and the process ends on its own, with status 0.
    expect(await exited).toBe(0);
  }
  await rm(dataDir, { recursive: true, force: true });
}, 30_000);

describe("credbroker dev on a port other than 8787", () => {
  it("listens where it was told and trusts its own dev issuer there", async () => {
    expect(stdout).toContain(`listening on ${url}`);
    expect(stdout).toContain(`issuer  ${url}/dev/issuer`);
    expect(stdout).toMatch(new RegExp(`console ${url}/console/\\?token=[A-Za-z0-9_-]{43}\n`));
    expect(stderr).not.toContain("no configured issuer trusts the dev issuer");
  });

  it("exchanges a dev token minted on that port for a credential", async () => {
    const minted = await fetch(`${url}/dev/issuer/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sub: "repo:acme/reports:ref:refs/heads/main" }),
    });
    const { token } = (await minted.json()) as { token: string };
    const res = await fetch(`${url}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: token,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    });
    const body = (await res.json()) as Record<string, unknown>;
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({ token_type: "Bearer", scope: "read-reports" });

    const introspected = (await (
      await fetch(`${url}/introspect`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token: body["access_token"] as string }),
      })
    ).json()) as Record<string, unknown>;
    expect(introspected).toMatchObject({ active: true, sub: "reports-job", iss: url });
  });

  it("dev token mints from the broker named by the CREDBROKER_URL line dev printed, without --url", async () => {
    expect(stdout).toContain(`export CREDBROKER_URL=${url}`);
    const minted = await runCli(
      ["dev", "token", "--sub", "repo:acme/reports:ref:refs/heads/main"],
      cleanEnv({ CREDBROKER_URL: url }),
    );
    expect(minted.code, minted.stderr).toBe(0);
    const [, payload] = minted.stdout.trim().split(".");
    expect(JSON.parse(Buffer.from(payload!, "base64url").toString())).toMatchObject({
      iss: `${url}/dev/issuer`,
    });
  });
});
