// The admin commands as an operator uses them: list, show and revoke grants on the table.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { unmarshall } from "../../lib/aws/marshall.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { grantsCommand } from "../../lib/cli/grants.ts";
import type { CliIo } from "../../lib/cli/io.ts";
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
let grantIds: string[] = [];

function capture(): CliIo & { stdout: () => string } {
  let out = "";
  return { out: (t) => (out += t), err: () => {}, env: { USER: "alice" }, stdout: () => out };
}

beforeAll(async () => {
  broker = await createTestBroker();
  grantIds = [];
  for (let i = 0; i < 3; i++) {
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    grantIds.push(res.body["grant_id"] as string);
  }
});
afterAll(closeSharedDynamo);

const run = async (args: string[]) => {
  const io = capture();
  await grantsCommand(args, io, async () => ({ store: broker.store }));
  return io.stdout();
};

describe("credbroker grants", () => {
  it("lists every grant as a table and as JSON with the contract's fields", async () => {
    const text = await run(["list"]);
    expect(text.split("\n")[0]).toMatch(/^GRANT\s+WORKLOAD\s+TASK\s+STATUS/);
    for (const id of grantIds) expect(text).toContain(id);
    const json = JSON.parse(await run(["list", "--json", "--workload", "web-ci"])) as Record<
      string,
      unknown
    >[];
    expect(json).toHaveLength(3);
    expect(Object.keys(json[0]!)).toEqual(
      expect.arrayContaining([
        "grantId",
        "workload",
        "subject",
        "issuer",
        "task",
        "provider",
        "status",
        "issuedAt",
        "expiresAt",
        "policyIds",
        "sourceIp",
        "purpose",
      ]),
    );
  });

  it("shows one grant", async () => {
    const shown = JSON.parse(await run(["show", grantIds[0]!, "--json"]));
    expect(shown).toMatchObject({
      grantId: grantIds[0],
      status: "active",
      workload: "web-ci",
      task: "read-reports",
    });
  });

  it("revokes an active grant with a reason, recorded in the grant and the audit trail", async () => {
    expect(await run(["revoke", grantIds[1]!, "--reason", "incident 42"])).toBe(`revoked ${grantIds[1]}\n`);
    expect(await broker.store.getGrant(grantIds[1]!)).toMatchObject({
      status: "revoked",
      reason: "incident 42",
    });
    const audit = await broker.store.listAudit({
      sinceMs: Date.now() - 86_400_000,
      untilMs: Date.now() + 60_000,
    });
    expect(audit.items.find((e) => e.grantId === grantIds[1] && e.outcome === "revoke")).toMatchObject({
      kind: "admin",
      actor: "alice",
    });
    const listed = JSON.parse(await run(["list", "--json", "--status", "revoked"])) as { grantId: string }[];
    expect(listed.map((g) => g.grantId)).toEqual([grantIds[1]]);
  });

  it("refuses to revoke a grant that is not active, and explains usage errors", async () => {
    await expect(run(["revoke", grantIds[1]!, "--reason", "again"])).rejects.toThrow(
      /is revoked, not active/,
    );
    await expect(run(["revoke", grantIds[0]!])).rejects.toThrow(
      /usage: credbroker grants revoke ID --reason TEXT/,
    );
    await expect(run(["show", "nope"])).rejects.toThrow(/no grant nope/);
    await expect(run(["list", "--status", "weird"])).rejects.toThrow(/--status must be one of/);
  });
});

describe("grants revoke --config", () => {
  it("keeps the revoked grant and its audit event as long as the config's retention says", async () => {
    const d = await sharedDynamo();
    const tableName = `grants${process.pid}retention`;
    await ensureTable(d.client, tableName);
    const own = await createTestBroker({ store: new DynamoGrantStore({ client: d.client, tableName }) });
    const res = await own.exchange(await own.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    const id = res.body["grant_id"] as string;
    const dir = await mkdtemp(join(tmpdir(), "credbroker-grants-"));
    await mkdir(join(dir, "policies"));
    const config = join(dir, "broker.config.json");
    await writeFile(
      config,
      JSON.stringify(baseConfig(own.issuer, { auditRetentionDays: 30, grantRetentionDays: 45 })),
    );
    await writeFile(join(dir, "policies", "test.cedar"), BASE_POLICIES);

    const before = Math.floor(Date.now() / 1000);
    await grantsCommand(["revoke", id, "--reason", "incident 43", "--config", config], {
      ...capture(),
      env: {
        USER: "alice",
        CREDBROKER_TABLE: tableName,
        AWS_ENDPOINT_URL_DYNAMODB: d.endpoint,
        AWS_REGION: "local",
      },
    });
    const after = Math.ceil(Date.now() / 1000);

    const items = ((await d.client.send(new ScanCommand({ TableName: tableName }))).Items ?? []).map(
      (i) => unmarshall(i) as Record<string, unknown>,
    );
    const grant = items.find((i) => i["grantId"] === id && i["sk"] === "GRANT");
    expect(grant).toMatchObject({ status: "revoked", reason: "incident 43" });
    expect(grant?.["ttl"]).toBeGreaterThanOrEqual(before + 45 * 86_400);
    expect(grant?.["ttl"]).toBeLessThanOrEqual(after + 45 * 86_400);
    const event = items.find((i) => i["kind"] === "admin" && i["outcome"] === "revoke");
    expect(event?.["ttl"]).toBe(Math.floor(Date.parse(event?.["time"] as string) / 1000) + 30 * 86_400);
  });
});

describe("the credbroker command line", () => {
  it("answers a mistyped flag with the usage and exit code 2, not a crash", async () => {
    const { spawnSync } = await import("node:child_process");
    const run = spawnSync(process.execPath, ["bin/credbroker.js", "grants", "list", "--bogus"], {
      encoding: "utf8",
      env: { ...process.env, CREDBROKER_TABLE: "t" },
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--bogus/);
    expect(run.stderr).toMatch(/usage: credbroker <command>/);
    expect(run.stdout).toBe("");
  });
});
