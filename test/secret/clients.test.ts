// The clients of a secret task (CONTRACT §15): `exchange --format env` prints the task's variable, the
// GitHub Action exports it masked (and its post step releases the grant, which rotates the secret), and
// `credential-process` refuses it. Each runs as a real child process against the broker over loopback HTTP.
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHandlers } from "../../lib/http/handlers.ts";
import { serve } from "../../lib/local/http-adapter.ts";
import { cleanEnv, runCli } from "../client/run-cli.ts";
import { DATADOG, DATADOG_VALUE, useSecretRig } from "./support.ts";

const rig = useSecretRig();
let server: Server;
let url: string;

beforeAll(async () => {
  const handlers = createHandlers(rig.broker.deps);
  server = createServer(
    serve(async (event) => {
      const path = event.rawPath;
      if (path === "/token") return handlers.token(event);
      if (path === "/revoke") return handlers.revoke(event);
      if (path === "/.well-known/oauth-authorization-server") return handlers.metadata(event);
      if (path === "/oidc") {
        const value = await rig.token();
        return {
          statusCode: 200,
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ value }),
        };
      }
      return { statusCode: 404, headers: {}, body: "{}" };
    }),
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server?.close();
});

describe("clients of a secret task", () => {
  it("exchange --format env prints the task's variable, quoted for the shell", async () => {
    const run = await runCli(
      ["exchange", "--url", url, "--task", "datadog-key", "--token-env", "JOB_TOKEN", "--format", "env"],
      cleanEnv({ JOB_TOKEN: await rig.token() }),
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`export DD_API_KEY='${DATADOG_VALUE.api_key}'\n`);
    expect(run.stdout).toMatch(/export CREDBROKER_GRANT_ID='[0-9a-z]{26}'/);
  });

  it("credential-process refuses a secret task and prints nothing on stdout", async () => {
    const run = await runCli(
      ["credential-process", "--url", url, "--task", "datadog-key", "--token-env", "JOB_TOKEN"],
      cleanEnv({ JOB_TOKEN: await rig.token() }),
    );
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/task datadog-key does not issue AWS credentials.*credbroker exchange/);
    expect(run.stderr).not.toContain(DATADOG_VALUE.api_key);
  });

  it("the GitHub Action exports the variable masked, and its post step's release rotates the secret", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-secret-action-"));
    const files = {
      GITHUB_ENV: join(dir, "env"),
      GITHUB_OUTPUT: join(dir, "output"),
      GITHUB_STATE: join(dir, "state"),
    };
    for (const f of Object.values(files)) await writeFile(f, "");
    const tsx = pathToFileURL(resolve("node_modules/tsx/dist/loader.mjs")).href;
    const env = cleanEnv({
      ...files,
      ACTIONS_ID_TOKEN_REQUEST_URL: `${url}/oidc`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime-request-token",
      "INPUT_BROKER-URL": url,
      INPUT_TASK: "datadog-key",
    });
    const step = (script: string, extra: Record<string, string> = {}) =>
      new Promise<{ code: number; stdout: string }>((res) =>
        execFile(
          process.execPath,
          ["--import", tsx, resolve(script)],
          { cwd: dir, env: { ...env, ...extra }, timeout: 60_000 },
          (err, stdout) => res({ code: err ? 1 : 0, stdout }),
        ),
      );
    const before = rig.sm.current(DATADOG);
    const main = await step("action/main.ts");
    expect(main.code).toBe(0);
    // Masked before it is exported, and never printed.
    expect(main.stdout).toContain(`::add-mask::${DATADOG_VALUE.api_key}`);
    expect(main.stdout.replace(`::add-mask::${DATADOG_VALUE.api_key}`, "")).not.toContain(
      DATADOG_VALUE.api_key,
    );
    const exported = await readFile(files.GITHUB_ENV, "utf8");
    expect(exported).toMatch(
      new RegExp(`^DD_API_KEY<<ghadelimiter_[0-9a-f-]+\\n${DATADOG_VALUE.api_key}\\n`, "m"),
    );
    expect(await readFile(files.GITHUB_OUTPUT, "utf8")).toMatch(/token-type<<[^\n]+\nsecret\n/);
    const state = await readFile(files.GITHUB_STATE, "utf8");
    const grantId = state.match(/grant_id<<[^\n]+\n([0-9a-z]{26})\n/)![1]!;
    const stateEnv: Record<string, string> = {};
    for (const m of state.matchAll(/^([a-z_]+)<<(ghadelimiter_[0-9a-f-]+)\n([^\n]*)\n\2$/gm))
      stateEnv[`STATE_${m[1]}`] = m[3]!;
    const post = await step("action/post.ts", stateEnv);
    expect(post.code).toBe(0);
    const g = await rig.grant(grantId);
    expect(g).toMatchObject({ status: "revoked", reason: "released", revocationPending: true });
    rig.sm.finishRotations();
    expect(rig.sm.current(DATADOG)).not.toBe(before);
  });
});
