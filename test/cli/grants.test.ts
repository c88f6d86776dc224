// The admin commands as an operator uses them: list, show and revoke grants on the table.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { grantsCommand } from "../../lib/cli/grants.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { closeSharedDynamo, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";

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
