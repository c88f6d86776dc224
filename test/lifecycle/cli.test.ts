// `credbroker signals` and `credbroker sweep` as an operator runs them: in-process for the output, and
// once through the real bin/credbroker.js against dynalite with --config, the way `credbroker dev` exports.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { CliError } from "../../lib/cli/errors.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { signalsCommand } from "../../lib/cli/signals.ts";
import { sweepCommand } from "../../lib/cli/sweep.ts";
import { cleanEnv, runCli } from "../client/run-cli.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  NOW,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";

let broker: TestBroker;
let tableName: string;
let n = 0;

beforeEach(async () => {
  const d = await sharedDynamo();
  tableName = `cli${process.pid}x${++n}`;
  await ensureTable(d.client, tableName);
  broker = await createTestBroker({ store: new DynamoGrantStore({ client: d.client, tableName }) });
});
afterAll(closeSharedDynamo);

function capture(): CliIo & { stdout: () => string } {
  let out = "";
  return { out: (t) => (out += t), err: () => {}, env: { USER: "alice" }, stdout: () => out };
}

async function issueWeb(): Promise<string> {
  const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
  expect(res.status).toBe(200);
  return res.body["grant_id"] as string;
}

describe("credbroker signals", () => {
  it("sets a signal, revokes the grants now denied before returning, and prints them", async () => {
    const id = await issueWeb();
    const io = capture();
    await signalsCommand(["set", "web-ci", "quarantined=true", "ticket=IR-7"], io, async () => broker.deps);
    expect(io.stdout()).toContain("web-ci: signals quarantined=true ticket=IR-7");
    expect(io.stdout()).toContain("re-evaluated 1 active grant, revoked 1");
    expect(io.stdout()).toContain(`revoked ${id} (read-reports): denied by policy: no-quarantined`);
    expect(await broker.store.getGrant(id)).toMatchObject({ status: "revoked" });

    const cleared = capture();
    await signalsCommand(["clear", "web-ci", "quarantined", "--json"], cleared, async () => broker.deps);
    expect(JSON.parse(cleared.stdout())).toEqual({
      workload: "web-ci",
      signals: { ticket: "IR-7" },
      evaluated: 0,
      revoked: [],
    });
  });

  it.each([
    [["set", "web-ci", "Quarantined=true"], /signal name "Quarantined" must match/],
    [["set", "web-ci", "quarantined"], /NAME=VALUE/],
    [["set", "no-such-workload", "quarantined=true"], /no workload named no-such-workload/],
    [["flip", "web-ci", "x"], /usage: credbroker signals/],
  ])("refuses %j with a one-line error", async (args, message) => {
    const io = capture();
    const run = signalsCommand(args, io, async () => broker.deps);
    await expect(run).rejects.toThrow(CliError);
    await expect(run).rejects.toThrow(message);
  });
});

describe("credbroker sweep", () => {
  it("prints the summary, as JSON with --json", async () => {
    await issueWeb();
    broker.clock.advance(301_000);
    const io = capture();
    await sweepCommand(["--json"], io, async () => broker.deps);
    expect(JSON.parse(io.stdout())).toMatchObject({ expired: 1, revoked: 0, complete: true, errors: 0 });
    const text = capture();
    await sweepCommand([], text, async () => broker.deps);
    expect(text.stdout()).toMatch(/^sweep: scanned 0, expired 0, revoked 0/);
  });

  it("refuses to run without a config", async () => {
    await expect(sweepCommand([], { ...capture(), env: {} })).rejects.toThrow(
      /no config: pass --config FILE or set CREDBROKER_CONFIG/,
    );
  });
});

describe("through bin/credbroker.js", () => {
  it("signals set and sweep load --config and act on the table named in the environment", {
    timeout: 120_000,
  }, async () => {
    const id = await issueWeb();
    const dir = await mkdtemp(join(tmpdir(), "credbroker-life-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "broker.config.json"), JSON.stringify(baseConfig(broker.issuer)));
    await writeFile(join(dir, "policies", "test.cedar"), BASE_POLICIES);
    const env = cleanEnv({
      CREDBROKER_TABLE: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: (await sharedDynamo()).endpoint,
      AWS_REGION: "local",
      USER: "ir-oncall",
    });

    const set = await runCli(
      ["signals", "set", "web-ci", "quarantined=true", "--config", join(dir, "broker.config.json")],
      env,
    );
    // stderr carries the audit trail as JSON lines; nothing in it is a warning or an error.
    expect(set.code, set.stderr).toBe(0);
    for (const line of set.stderr.trim().split("\n"))
      expect(JSON.parse(line)).toMatchObject({ level: "info", message: "audit" });
    expect(set.stdout).toContain(`revoked ${id} (read-reports): denied by policy: no-quarantined`);
    expect(await broker.store.getGrant(id)).toMatchObject({
      status: "revoked",
      reason: "denied by policy: no-quarantined",
    });

    const sweep = await runCli(["sweep", "--json"], {
      ...env,
      CREDBROKER_CONFIG: join(dir, "broker.config.json"),
    });
    expect(sweep.code).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ complete: true, errors: 0 });
  });
});
