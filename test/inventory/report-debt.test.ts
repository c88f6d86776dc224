// `credbroker report` with the inventory: the debt section of CONTRACT §9 in JSON (its exact shape),
// text and Markdown, reviews judged at report time, the trend over kept snapshots only, and a failed sync
// leaving the previous snapshot reported.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inventoryCommand } from "../../lib/cli/inventory.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import type { GovernanceReport } from "../../lib/core/report/report-types.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { ACCOUNT, ARN, BROKER_ROLE, DAY, EXPECTED_COUNTS } from "./scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

let world: InventoryWorld;
const times: string[] = [];

const inventory = async (args: string[]) => {
  const io = capture({ USER: "tester" });
  await inventoryCommand([...args, "--config", world.configPath], io, world.deps());
  return io;
};
const syncFiles = async () => {
  const io = await inventory([
    "sync",
    "--credential-report",
    world.files.credentialReport,
    "--authorization-details",
    world.files.authorizationDetails,
    "--json",
  ]);
  times.push(JSON.parse(io.stdout())[0].snapshotTime);
};
const report = async (...args: string[]) => {
  const io = capture();
  await reportCommand(
    ["--config", world.configPath, ...args],
    io,
    async () => world.grants,
    () => world.clock.now(),
    async () => world.inventory,
  );
  return io.stdout();
};

beforeAll(async () => {
  world = await inventoryWorld({
    ownerTagKeys: ["owner", "team"],
    brokerPrincipals: [BROKER_ROLE],
    snapshotsKept: 2,
  });
  await syncFiles(); // day 0: 7 privileged unreviewed
  world.clock.advance(DAY);
  await inventory(["review", ARN.breakGlass, "--note", "incident access", "--by", "sec-lead"]);
  await syncFiles(); // day 1: 6
  world.clock.advance(DAY);
  await syncFiles(); // day 2: 6; the day-0 snapshot is pruned (snapshotsKept 2)
  await inventory(["review", ARN.alice, "--note", "admin by role"]);
});
afterAll(async () => {
  await closeSharedDynamo();
});

describe("report debt", () => {
  it("has the shape CONTRACT §9 pins, from the newest snapshot, with reviews as of now", async () => {
    const r = JSON.parse(await report("--json")) as GovernanceReport;
    const d = r.debt;
    expect(Object.keys(d)).toEqual(["snapshotTime", "accounts", "verdicts", "trend"]);
    expect(d.snapshotTime).toBe(times[2]);
    expect(d.accounts).toEqual([
      {
        accountId: ACCOUNT,
        snapshotTime: times[2],
        generatedTime: null,
        source: "files",
        counts: { ...EXPECTED_COUNTS, "privileged-unreviewed": 5 },
      },
    ]);
    expect(d.verdicts.map((v) => [v.criterion, v.met, v.actual, v.target])).toEqual([
      ["privileged-unreviewed", false, 5, 0],
      ["orphaned-principals", false, 3, 0],
      ["stale-principals", false, 3, 0],
      ["long-lived-keys", false, 6, 0],
      ["broker-bypass", false, 4, 0],
      ["static-secrets", true, 0, 0],
    ]);
    for (const v of d.verdicts) {
      expect(v.items).toHaveLength(v.actual);
      for (const i of v.items) expect(Object.keys(i)).toEqual(["arn", "why"]);
    }
    const keys = d.verdicts.find((v) => v.criterion === "long-lived-keys")!;
    expect({
      replaced: keys.replaced,
      unreplaced: keys.unreplaced,
      still: keys.stillUsedAfterReplacement,
    }).toEqual({
      replaced: 2,
      unreplaced: 4,
      still: 1,
    });
    expect(keys.items).toContainEqual({
      arn: ARN.ciDeployer,
      why: "access_key_1 active, last used 2026-11-28; replaced by workload web-deploy, still used after its first grant",
    });
    expect(keys.items).toContainEqual({
      arn: ARN.root,
      why: "access_key_1 active, last used 2026-02-03; root account key",
    });
    expect(d.verdicts.find((v) => v.criterion === "broker-bypass")!.items).toEqual([
      { arn: ARN.webDeployer, why: "trusted by oidc-provider/token.actions.githubusercontent.com" },
      { arn: ARN.reportsReader, why: "trusted by account 444455556666 (any principal it allows)" },
      { arn: ARN.lambdaExec, why: "trusted by *" },
      { arn: ARN.gone, why: "task ghost-task names this role, but it is not in the account's snapshot" },
    ]);
    const privileged = d.verdicts[0]!.items.map((i) => i.arn);
    expect(privileged).not.toContain(ARN.breakGlass);
    expect(privileged).not.toContain(ARN.alice);
    expect(privileged).toContain(ARN.admins);
  });

  it("keeps the trend of the kept snapshots, oldest first, as counted at each sync", async () => {
    const d = (JSON.parse(await report("--json")) as GovernanceReport).debt;
    expect(d.trend).toEqual([
      { snapshotTime: times[1], counts: EXPECTED_COUNTS },
      { snapshotTime: times[2], counts: EXPECTED_COUNTS },
    ]);
  });

  it("lapses a review after reviewValidDays", async () => {
    world.clock.advance(91 * DAY);
    const d = (JSON.parse(await report("--json")) as GovernanceReport).debt;
    const glass = d.verdicts[0]!.items.find((i) => i.arn === ARN.breakGlass);
    expect(glass?.why).toMatch(
      /^AdministratorAccess attached \(review by sec-lead lapsed \d{4}-\d\d-\d\d\)$/,
    );
    world.clock.advance(-91 * DAY);
  });

  it("renders the debt in text and Markdown", async () => {
    const text = await report();
    expect(text).toContain(`INVENTORY DEBT (snapshot ${times[2]})`);
    expect(text).toMatch(/NOT MET +broker-bypass +4 +No task role can be assumed without the broker/);
    expect(text).toContain("trusted by oidc-provider/token.actions.githubusercontent.com");
    const md = await report("--format", "markdown");
    expect(md).toContain(`## Inventory debt (snapshot ${times[2]})`);
    expect(md).toContain(
      "| NOT MET | long-lived-keys | 6 | No active long-lived access key (2 replaced, 4 unreplaced, 1 still used after replacement) |",
    );
    expect(md).toContain("### Trend (oldest first)");
  });

  it("still reports the previous snapshot after a failed sync", async () => {
    const path = join(world.dir, "broken.json");
    await writeFile(path, '{"UserDetailList": [');
    world.clock.advance(60_000);
    await expect(
      inventory([
        "sync",
        "--credential-report",
        world.files.credentialReport,
        "--authorization-details",
        path,
      ]),
    ).rejects.toThrow(/truncated; nothing was stored/);
    expect((JSON.parse(await report("--json")) as GovernanceReport).debt.snapshotTime).toBe(times[2]);
  });
});

describe("report debt before any sync", () => {
  it("is an empty section, and the text says to sync", async () => {
    const fresh = await inventoryWorld();
    const io = capture();
    await reportCommand(
      ["--config", fresh.configPath, "--json"],
      io,
      async () => fresh.grants,
      () => fresh.clock.now(),
      async () => fresh.inventory,
    );
    expect((JSON.parse(io.stdout()) as GovernanceReport).debt).toEqual({
      snapshotTime: null,
      accounts: [],
      verdicts: [],
      trend: [],
    });
    const text = capture();
    await reportCommand(
      ["--config", fresh.configPath],
      text,
      async () => fresh.grants,
      () => fresh.clock.now(),
      async () => fresh.inventory,
    );
    expect(text.stdout()).toContain("no inventory snapshot yet: run credbroker inventory sync");
  });
});
