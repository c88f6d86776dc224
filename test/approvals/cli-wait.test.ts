// The whole approval flow as people run it (CONTRACT §10, README walk-through): the real `credbroker dev`
// with the demo config, an agent's `exchange --wait` in one process, an approver's `approvals` commands in
// others, everything over loopback HTTP.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevProcess, runCli, startDevProcess } from "../support/dev-process.ts";

let dev: DevProcess;
let agentToken: string;
let approverToken: string;
const env = () => ({ CREDBROKER_URL: dev.url });

beforeAll(async () => {
  dev = await startDevProcess({ sweepIntervalSeconds: 0 });
  const agent = await runCli(["dev", "token", "--sub", "agent:ops"], env());
  expect(agent.code).toBe(0);
  agentToken = join(dev.dataDir, "agent.jwt");
  await writeFile(agentToken, agent.stdout.trim());
  const alice = await runCli(
    [
      "dev",
      "token",
      "--sub",
      "alice",
      "--approver",
      "--claim",
      "groups=sre",
      "--claim",
      "email=alice@acme.example",
    ],
    env(),
  );
  expect(alice.code).toBe(0);
  approverToken = join(dev.dataDir, "alice.jwt");
  await writeFile(approverToken, alice.stdout.trim());
}, 90_000);

afterAll(async () => {
  await dev?.stop();
});

/** `exchange --wait` in its own process; resolves the approval id once its pending line is on stderr. */
function waitingExchange(purpose: string, waitSeconds: number) {
  const proc = spawn(
    process.execPath,
    [
      "bin/credbroker.js",
      "exchange",
      "--url",
      dev.url,
      "--task",
      "rotate-prod-db",
      "--purpose",
      purpose,
      "--token-file",
      agentToken,
      "--wait",
      String(waitSeconds),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  const approvalId = new Promise<string>((resolve, reject) => {
    proc.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      const m = /approval id ([0-9a-z]{26})/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    proc.on("close", () => reject(new Error(`exchange ended before it was pending:\n${stderr}`)));
  });
  const done = (once(proc, "close") as Promise<[number | null]>).then(([code]) => ({ code, stdout, stderr }));
  return { approvalId, done };
}

describe("credbroker exchange --wait against credbroker dev", () => {
  it("prints that approval is pending with the approve command, and gets the credential once approved from another process", async () => {
    const run = waitingExchange("rotate after the leak", 60);
    const id = await run.approvalId;
    const list = await runCli(["approvals", "list", "--token-file", approverToken], env());
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(id);
    expect(list.stdout).toContain("ops-agent");
    const approve = await runCli(
      ["approvals", "approve", id, "--token-file", approverToken, "--reason", "ticket OPS-7"],
      env(),
    );
    expect(approve).toMatchObject({ code: 0 });
    expect(approve.stdout).toContain(`approval ${id}: approved (1 of 1 approvals)`);
    const result = await run.done;
    // Run from a checkout: the printed command is one that works from here.
    expect(result.stderr).toContain(`\n  node bin/credbroker.js approvals approve ${id} --url ${dev.url}`);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({
      scope: "rotate-prod-db",
      token_type: "Bearer",
      grant_id: expect.any(String),
    });
    const show = await runCli(["approvals", "show", id, "--token-file", approverToken, "--json"], env());
    expect(JSON.parse(show.stdout)).toMatchObject({
      approvalId: id,
      status: "approved",
      grantId: body["grant_id"],
      polls: expect.any(Number),
    });
    expect(JSON.parse(show.stdout).polls).toBeGreaterThanOrEqual(1);
  }, 90_000);

  it("exits non-zero with a clear message when an approver denies", async () => {
    const run = waitingExchange("rotate again", 60);
    const id = await run.approvalId;
    const deny = await runCli(
      ["approvals", "deny", id, "--token-file", approverToken, "--reason", "not now"],
      env(),
    );
    expect(deny.stdout).toContain("denied");
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      new RegExp(`no credential for task rotate-prod-db: approval ${id} was denied`),
    );
  }, 90_000);

  it("exits non-zero, naming the approval, when the wait runs out", async () => {
    const run = waitingExchange("a quick one", 2);
    const id = await run.approvalId;
    const result = await run.done;
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`approval ${id} is still pending after waiting 2 s`);
  }, 90_000);

  it("without --wait says approval is pending and how to approve it", async () => {
    const res = await runCli(
      ["exchange", "--task", "rotate-prod-db", "--purpose", "a quick one", "--token-file", agentToken],
      env(),
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/waits for approval \(approval id [0-9a-z]{26}\)/);
    expect(res.stderr).toContain("\n  node bin/credbroker.js approvals approve");
  }, 60_000);

  it("refuses a workload token as an approver token", async () => {
    const res = await runCli(["approvals", "list", "--token-file", agentToken], env());
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain("401 invalid_token");
  }, 60_000);
});
