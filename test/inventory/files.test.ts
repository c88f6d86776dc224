// `inventory sync` from the files the AWS CLI writes, then `list` and `review`, over dynalite: every
// verdict counted exactly, and bad files refused with one line and nothing stored.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../../lib/cli/errors.ts";
import { inventoryCommand } from "../../lib/cli/inventory.ts";
import type { PrincipalRecord } from "../../lib/core/inventory/records.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { ACCOUNT, ARN, credentialReportCsv, credentialReportRows, DAY, EXPECTED_COUNTS } from "./scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

let world: InventoryWorld;

const run = async (args: string[]) => {
  const io = capture({ USER: "tester" });
  await inventoryCommand([...args, "--config", world.configPath], io, world.deps());
  return io;
};
const syncFiles = (files = world.files, extra: string[] = []) =>
  run([
    "sync",
    "--credential-report",
    files.credentialReport,
    "--authorization-details",
    files.authorizationDetails,
    "--json",
    ...extra,
  ]);
const failure = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  return (err as CliError).message;
};

beforeAll(async () => {
  world = await inventoryWorld();
});
afterAll(async () => {
  await closeSharedDynamo();
});

describe("inventory sync from files", () => {
  it("counts every verdict of the scenario exactly and prints progress on stderr", async () => {
    const io = await syncFiles();
    const [summary] = JSON.parse(io.stdout());
    expect(summary).toMatchObject({
      accountId: ACCOUNT,
      source: "files",
      generatedTime: null,
      counts: { ...EXPECTED_COUNTS, "privileged-unreviewed": 7 },
      keys: { replaced: 2, unreplaced: 4, stillUsedAfterReplacement: 1 },
    });
    expect(io.stderr()).toMatch(/reading .*credential-report\.csv/);
  });

  it("lists each principal with why, service-linked roles left out", async () => {
    const io = await run(["list", "--json"]);
    const records = JSON.parse(io.stdout()) as (PrincipalRecord & { debt: string[] })[];
    const by = new Map(records.map((r) => [r.arn, r]));
    expect(records.some((r) => r.arn.includes("aws-service-role"))).toBe(false);
    expect(by.get(ARN.alice)?.privileged).toEqual(["member of group admins (AdministratorAccess attached)"]);
    expect(by.get(ARN.ciDeployer)?.privileged).toEqual([
      "member of group deployers (managed policy passer allows iam:PassRole on *)",
    ]);
    expect(by.get(ARN.reporter)?.privileged).toEqual(["inline policy hop allows sts:AssumeRole on *"]);
    expect(by.get(ARN.appRuntime)?.privileged).toBeUndefined();
    expect(by.get(ARN.webDeployer)?.bypass).toBe(
      "trusted by oidc-provider/token.actions.githubusercontent.com",
    );
    expect(by.get(ARN.reportsReader)?.bypass).toBe(
      "trusted by account 444455556666 (any principal it allows)",
    );
    expect(by.get(ARN.lambdaExec)?.bypass).toBe("trusted by *");
    expect(by.get(ARN.gone)).toMatchObject({ missing: true });
    expect(by.get(ARN.oldBot)?.stale).toBe("last used 2026-07-03, over 90 days before the snapshot");
    expect(by.get(ARN.appRuntime)?.stale).toMatch(/^never used since it was created on /);
    expect(by.get(ARN.newbie)?.stale).toBeUndefined();
    expect(by.get(ARN.ciDeployer)?.owner).toBe("replaced by workload web-deploy");
    expect(by.get(ARN.ciDeployer)?.keys).toEqual([
      {
        key: "access_key_1",
        lastUsed: "2026-11-28T10:00:00.000Z",
        lastRotated: "2026-03-25T10:00:00.000Z",
        replacedBy: ["workload web-deploy"],
        usedAfterReplacement: true,
      },
    ]);
    expect(by.get(ARN.tfUser)?.keys?.[0]).toMatchObject({
      replacedBy: ["task deploy-web"],
      usedAfterReplacement: false,
    });
    expect(by.get(ARN.root)?.keys?.map((k) => k.replacedBy)).toEqual([[]]);
  });

  it("filters by kind and to debt, and lists keys", async () => {
    const groups = JSON.parse(
      (await run(["list", "--kind", "group", "--json"])).stdout(),
    ) as PrincipalRecord[];
    expect(groups.map((g) => g.name).sort()).toEqual(["admins", "deployers", "devs"]);
    const debt = JSON.parse(
      (await run(["list", "--kind", "group", "--debt", "--json"])).stdout(),
    ) as PrincipalRecord[];
    expect(debt.map((g) => g.name).sort()).toEqual(["admins", "deployers"]);
    const keys = JSON.parse((await run(["list", "--kind", "key", "--json"])).stdout()) as unknown[];
    expect(keys).toHaveLength(EXPECTED_COUNTS["long-lived-keys"]);
    const text = (await run(["list", "--kind", "role", "--debt"])).stdout();
    expect(text).toMatch(/^KIND +ARN +DEBT\n/);
    expect(text).toContain("role  arn:aws:iam::111122223333:role/app-runtime");
  });

  it("records a review, which takes break-glass off the unreviewed count at the next sync", async () => {
    const io = await run(["review", ARN.breakGlass, "--note", "needed for incidents"]);
    expect(io.stdout()).toBe(
      `reviewed ${ARN.breakGlass} (by tester), valid until ${new Date(world.clock.now() + 90 * DAY).toISOString()}\n`,
    );
    world.clock.advance(DAY);
    const [summary] = JSON.parse((await syncFiles()).stdout());
    expect(summary.counts).toEqual(EXPECTED_COUNTS);
    expect((await world.inventory.listSummaries(ACCOUNT)).length).toBe(2);
  });

  it("refuses to review a principal that is not privileged, or not in the snapshot", async () => {
    expect(await failure(run(["review", ARN.newbie, "--note", "x"]))).toMatch(/is not privileged/);
    expect(await failure(run(["review", "arn:aws:iam::111122223333:role/nope", "--note", "x"]))).toMatch(
      /not in the newest inventory snapshot/,
    );
  });
});

describe("inventory sync refuses bad files and keeps the previous snapshot", () => {
  const bad = async (name: string, text: string, which: "credentialReport" | "authorizationDetails") => {
    const path = join(world.dir, name);
    await writeFile(path, text);
    const before = await world.inventory.listSummaries(ACCOUNT);
    world.clock.advance(60_000);
    const message = await failure(syncFiles({ ...world.files, [which]: path }));
    expect(message).not.toContain("\n");
    expect(message).toMatch(/nothing was stored$/);
    expect(await world.inventory.listSummaries(ACCOUNT)).toEqual(before);
    return message;
  };

  it("a truncated credential report", async () => {
    const csv = credentialReportCsv();
    expect(await bad("cut.csv", csv.slice(0, csv.length - 200), "credentialReport")).toMatch(
      /^inventory sync: credential report .*cut\.csv: Invalid Record Length/,
    );
  });

  it("a credential report with an unknown column", async () => {
    const csv = credentialReportCsv(credentialReportRows(), ["user", "arn", "favourite_colour"]);
    expect(await bad("odd.csv", csv, "credentialReport")).toBe(
      'inventory sync: credential report: unknown column "favourite_colour" (is this an IAM credential report?); nothing was stored',
    );
  });

  it("a credential report value IAM never writes", async () => {
    const csv = credentialReportCsv().replace(",not_supported,", ",maybe,");
    expect(await bad("maybe.csv", csv, "credentialReport")).toMatch(/password_enabled is not true or false/);
  });

  it.each([
    ["an array", "[]", /not a JSON object/],
    ["another document", '{"Roles": []}', /unexpected key "Roles"/],
    ["a document cut short", '{"UserDetailList": [{"UserName": "a"', /truncated/],
    [
      "a list missing",
      '{"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": []}',
      /missing Policies/,
    ],
    [
      "an element of the wrong shape",
      '{"UserDetailList": [{"UserName": 3}], "GroupDetailList": [], "RoleDetailList": [], "Policies": []}',
      /UserDetailList\[0\]\.UserName/,
    ],
    [
      "one page of several",
      '{"UserDetailList": [], "GroupDetailList": [], "RoleDetailList": [], "Policies": [], "IsTruncated": true}',
      /one page of several/,
    ],
  ])("authorization details that are %s", async (_what, text, pattern) => {
    expect(await bad("bad.json", text, "authorizationDetails")).toMatch(pattern);
  });

  it("an account id that the files contradict", async () => {
    const message = await failure(syncFiles(world.files, ["--account-id", "444455556666"]));
    expect(message).toMatch(/more than one account \(111122223333, 444455556666\)/);
  });

  it("reads the CLI's JSON however it is laid out", async () => {
    const json = JSON.parse(await readFile(world.files.authorizationDetails, "utf8"));
    const path = join(world.dir, "compact.json");
    await writeFile(path, JSON.stringify(json));
    world.clock.advance(60_000);
    const [summary] = JSON.parse((await syncFiles({ ...world.files, authorizationDetails: path })).stdout());
    expect(summary.counts).toEqual(EXPECTED_COUNTS);
  });
});
