// `credbroker dev` audit output: readable lines in a terminal, and each audit event as one JSON log line
// (CONTRACT §6) when stderr is piped or redirected, checked on the real bin/credbroker.js.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { devLogger } from "../../lib/cli/dev.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { cleanEnv } from "../client/run-cli.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

let child: ChildProcess | undefined;
afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});

const form = (o: Record<string, string>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(o),
});

describe("credbroker dev audit output", () => {
  it("writes each audit event as one JSON log line when stderr is not a terminal", {
    timeout: 120_000,
  }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "cb-dev-log-"));
    const port = await freePort();
    const config = await demoConfigFor(dataDir, port);
    const proc = spawn(
      process.execPath,
      [
        "bin/credbroker.js",
        "dev",
        "--config",
        config,
        "--port",
        String(port),
        "--data-dir",
        dataDir,
        "--in-memory",
        "--sweep-interval",
        "0",
      ],
      { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    child = proc;
    let out = "";
    let err = "";
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr!.on("data", (c: Buffer) => {
      err += c.toString();
    });
    const exited = once(proc, "exit");
    while (!out.includes("listening on")) {
      if (proc.exitCode !== null) throw new Error(`dev exited: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const url = `http://127.0.0.1:${port}`;
    const { token } = (await (
      await fetch(`${url}/dev/issuer/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub: "repo:acme/reports:ref:refs/heads/main" }),
      })
    ).json()) as { token: string };
    const res = await fetch(
      `${url}/token`,
      form({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: token,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    );
    expect(res.status).toBe(200);
    const { grant_id: grantId } = (await res.json()) as { grant_id: string };

    proc.kill("SIGTERM");
    await exited;
    child = undefined;
    const lines = err.trim().split("\n");
    const audits = lines
      .map((l) => JSON.parse(l) as { message: string; audit?: AuditEvent })
      .filter((l) => l.message === "audit");
    expect(audits.map((l) => l.audit)).toEqual([
      expect.objectContaining({ kind: "token", outcome: "issue", task: "read-reports", grantId }),
    ]);
    expect(err).not.toContain(token);
  });

  it("prints a readable line per audit event in a terminal, and the JSON line otherwise", () => {
    const event: AuditEvent = {
      eventId: "evt-1",
      time: "2026-11-30T10:00:01.234Z",
      kind: "token",
      outcome: "deny",
      decisionId: "dec-1",
      workload: "web-ci",
      task: "deploy-web",
      policyIds: ["sensitive-tasks"],
      errorCode: "policy_denied",
    };
    const written = (readable: boolean) => {
      let text = "";
      devLogger({ out: () => {}, err: (t) => (text += t), env: {} }, readable).info("audit", {
        audit: event,
      });
      return text;
    };
    expect(written(true)).toBe(
      "10:00:01 token/deny    web-ci         deploy-web       error=policy_denied policies=sensitive-tasks\n",
    );
    const line = written(false);
    expect(line.endsWith("\n") && line.indexOf("\n") === line.length - 1).toBe(true);
    expect(JSON.parse(line)).toMatchObject({ level: "info", message: "audit", audit: event });
  });
});
