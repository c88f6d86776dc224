// `credbroker signals` and `credbroker sweep` as an operator runs them: in-process for the output, and
// through the real bin/credbroker.js against dynalite with --config, the way `credbroker dev` exports.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { unmarshall } from "../../lib/aws/marshall.ts";
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

/** The broker's config and policies on disk, as an operator points --config at them. */
async function configOnDisk(
  overrides: Record<string, unknown> = {},
  policies = BASE_POLICIES,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-life-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "broker.config.json"), JSON.stringify(baseConfig(broker.issuer, overrides)));
  await writeFile(join(dir, "policies", "test.cedar"), policies);
  return join(dir, "broker.config.json");
}

/** Every item of the test's table as stored, with the attributes the store keeps to itself (`ttl`). */
async function rawItems(): Promise<Record<string, unknown>[]> {
  const out = await (await sharedDynamo()).client.send(new ScanCommand({ TableName: tableName }));
  return (out.Items ?? []).map((i) => unmarshall(i) as Record<string, unknown>);
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
      settled: true,
      revoked: [],
    });
  });

  it("says so when a grant of the workload was still being issued, instead of a bare revoked 0", async () => {
    const active = (await broker.store.getGrant(await issueWeb()))!;
    // A request decided just before the change, its credential not out yet.
    const issuing = { ...active, grantId: "grant-still-issuing", status: "issuing" as const };
    await broker.store.createGrant(issuing, Date.parse(issuing.expiresAt));

    const io = capture();
    await signalsCommand(["set", "web-ci", "quarantined=true"], io, async () => broker.deps);
    expect(io.stdout()).toContain("re-evaluated 1 active grant, revoked 1");
    expect(io.stdout()).toContain(
      "some grants of web-ci were still being issued and could not be re-decided yet; the next sweep re-decides them",
    );
    expect(await broker.store.getGrant("grant-still-issuing")).toMatchObject({ status: "issuing" });

    const json = capture();
    await signalsCommand(["set", "web-ci", "ticket=IR-8", "--json"], json, async () => broker.deps);
    expect(JSON.parse(json.stdout())).toMatchObject({ evaluated: 0, settled: false, revoked: [] });
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

// The deployed broker's policies without the permit that allows web-ci's grants: a stale copy on an
// operator's disk, under which every such grant reads as "no policy permits it now".
const STALE_POLICIES = BASE_POLICIES.replace(/@id\("ci-reads-reports"\)[^;]*;/, "");

describe("a config other than the one the broker last applied", () => {
  async function deployedAndStale() {
    const id = await issueWeb();
    // The deployed sweep has run: the sweep state records the deployed version as applied.
    await sweepCommand([], capture(), async () => broker.deps);
    const stale = await createTestBroker({
      store: broker.store,
      issuer: broker.issuer,
      policies: STALE_POLICIES,
    });
    expect(stale.resolved.version).not.toBe(broker.resolved.version);
    return { id, stale, deployed: broker.resolved.version, other: stale.resolved.version };
  }

  it("sweep refuses with exit 2 naming both versions, and changes nothing", async () => {
    const { id, stale, deployed, other } = await deployedAndStale();
    const before = await broker.store.getSweepState();

    const run = sweepCommand([], capture(), async () => stale.deps);
    await expect(run).rejects.toMatchObject({ name: "CliError", exitCode: 2 });
    await expect(run).rejects.toThrow(
      `this config is version ${other}, but the broker last applied version ${deployed}: ` +
        "re-deciding grants under this config would revoke grants the deployed broker allowed",
    );
    await expect(run).rejects.toThrow(/pass --force/);
    expect(await broker.store.getGrant(id)).toMatchObject({ status: "active" });
    expect(await broker.store.getSweepState()).toEqual(before);
  });

  it("sweep --force re-decides under the given config", async () => {
    const { id, stale } = await deployedAndStale();
    const io = capture();
    await sweepCommand(["--force", "--json"], io, async () => stale.deps);
    expect(JSON.parse(io.stdout())).toMatchObject({ revoked: 1, errors: 0 });
    expect(await broker.store.getGrant(id)).toMatchObject({
      status: "revoked",
      reason: "no policy permits it now",
    });
  });

  it("signals set refuses before writing anything; --force applies it", async () => {
    const { id, stale, deployed, other } = await deployedAndStale();
    const args = ["set", "web-ci", "ticket=IR-9"];

    const run = signalsCommand(args, capture(), async () => stale.deps);
    await expect(run).rejects.toMatchObject({ name: "CliError", exitCode: 2 });
    await expect(run).rejects.toThrow(
      `this config is version ${other}, but the broker last applied version ${deployed}`,
    );
    expect(await broker.store.getSignals("web-ci")).toEqual({});
    expect(await broker.store.listReevaluations()).toEqual([]);
    const events = await broker.store.listAudit({
      sinceMs: 0,
      untilMs: NOW + 86_400_000,
      workload: "web-ci",
    });
    expect(events.items.filter((e) => e.kind === "signal")).toEqual([]);
    expect(await broker.store.getGrant(id)).toMatchObject({ status: "active" });

    const forced = capture();
    await signalsCommand([...args, "--force"], forced, async () => stale.deps);
    expect(await broker.store.getSignals("web-ci")).toEqual({ ticket: "IR-9" });
    expect(forced.stdout()).toContain(`revoked ${id} (read-reports): no policy permits it now`);
  });

  it("goes ahead with the version of a pass the broker has started, and with no sweep state at all", async () => {
    const id = await issueWeb();
    const io = capture();
    await signalsCommand(["set", "web-ci", "ticket=IR-10"], io, async () => broker.deps);
    expect(io.stdout()).toContain("re-evaluated 1 active grant, revoked 0");

    await broker.store.putSweepState(
      {
        configVersion: "0000000000000000",
        pass: { configVersion: broker.resolved.version, shard: 0, startedAtMs: NOW },
      },
      undefined,
    );
    const sweep = capture();
    await sweepCommand(["--json"], sweep, async () => broker.deps);
    expect(JSON.parse(sweep.stdout())).toMatchObject({ revoked: 0, errors: 0, complete: true });
    expect(await broker.store.getGrant(id)).toMatchObject({ status: "active" });
  });
});

describe("retention from the loaded config", () => {
  it("signals set keeps its audit events and the grants it ends as long as the config says", async () => {
    const id = await issueWeb();
    const config = await configOnDisk({ auditRetentionDays: 30, grantRetentionDays: 45 });
    const env = {
      USER: "ir-oncall",
      CREDBROKER_TABLE: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: (await sharedDynamo()).endpoint,
      AWS_REGION: "local",
    };
    const before = Math.floor(Date.now() / 1000);
    await signalsCommand(["set", "web-ci", "quarantined=true", "--config", config], { ...capture(), env });
    const after = Math.ceil(Date.now() / 1000);

    const items = await rawItems();
    const change = items.find((i) => i["kind"] === "signal" && i["outcome"] === "change");
    const revoke = items.find((i) => i["kind"] === "signal" && i["outcome"] === "revoke");
    for (const event of [change, revoke])
      expect(event?.["ttl"]).toBe(Math.floor(Date.parse(event?.["time"] as string) / 1000) + 30 * 86_400);
    const grant = items.find((i) => i["grantId"] === id && i["sk"] === "GRANT");
    expect(grant).toMatchObject({ status: "revoked" });
    expect(grant?.["ttl"]).toBeGreaterThanOrEqual(before + 45 * 86_400);
    expect(grant?.["ttl"]).toBeLessThanOrEqual(after + 45 * 86_400);
  });
});

describe("through bin/credbroker.js", () => {
  it("signals set and sweep load --config and act on the table named in the environment", {
    timeout: 120_000,
  }, async () => {
    const id = await issueWeb();
    const config = await configOnDisk();
    const env = cleanEnv({
      CREDBROKER_TABLE: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: (await sharedDynamo()).endpoint,
      AWS_REGION: "local",
      USER: "ir-oncall",
    });

    const set = await runCli(["signals", "set", "web-ci", "quarantined=true", "--config", config], env);
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
      CREDBROKER_CONFIG: config,
    });
    expect(sweep.code).toBe(0);
    expect(JSON.parse(sweep.stdout)).toMatchObject({ complete: true, errors: 0 });
  });

  it("sweep with a stale copy of the config exits 2 and leaves the broker's grants alone", {
    timeout: 120_000,
  }, async () => {
    const id = await issueWeb();
    await sweepCommand([], capture(), async () => broker.deps);
    const stale = await configOnDisk({}, STALE_POLICIES);
    const run = await runCli(
      ["sweep", "--config", stale],
      cleanEnv({
        CREDBROKER_TABLE: tableName,
        AWS_ENDPOINT_URL_DYNAMODB: (await sharedDynamo()).endpoint,
        AWS_REGION: "local",
      }),
    );
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(
      new RegExp(
        `^credbroker: this config is version [0-9a-f]{16}, but the broker last applied version ${broker.resolved.version}: .*--force.*\n$`,
      ),
    );
    expect(run.stdout).toBe("");
    expect(await broker.store.getGrant(id)).toMatchObject({ status: "active" });
  });
});
