// The organisation fan-out of `inventory sync` (CONTRACT §16) against the loopback fixture: Organizations'
// ListAccounts in JSON 1.1, paged; each member entered through its member role; 1,000 accounts of ten roles,
// 20 of which refuse AssumeRole and 5 of which IAM throttles. Every account ends `ok` or with its error, the
// verdicts add up exactly, and a failed account keeps its previous snapshot as its newest.
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { organizationIam } from "../../lib/aws/organization-inventory.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { inventoryCommand } from "../../lib/cli/inventory.ts";
import { debtFromStore } from "../../lib/core/inventory/gather.ts";
import type { OrganizationIam } from "../../lib/core/inventory/organization.ts";
import { DEBT_CRITERIA } from "../../lib/core/inventory/records.ts";
import type { SnapshotSummary } from "../../lib/core/inventory/store.ts";
import { type AwsQueryServer, QueryFault, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { organizationsActions } from "../fixtures/organizations.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import {
  LISTING_ROLE,
  MANAGEMENT,
  MEMBER_ROLE_NAME,
  memberAccount,
  organizationScenario,
  PER_ACCOUNT_COUNTS,
} from "./organization-scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

const COUNT = 1000;
const CONCURRENCY = 8;
const scenario = organizationScenario(COUNT);
const REFUSING = new Set(Array.from({ length: 20 }, (_, i) => memberAccount(i * 50 + 7)));
const THROTTLED = new Set(Array.from({ length: 5 }, (_, i) => memberAccount(i * 200 + 13)));
const FAILING = [...REFUSING, ...THROTTLED].sort();

let aws: AwsQueryServer;
let inFlight = 0;
let maxInFlight = 0;

function liveOrganization(): OrganizationIam {
  const client = { endpoint: aws.url, region: "us-east-1", maxAttempts: 2 } as const;
  const iam = organizationIam({
    sts: new STSClient({ ...aws.clientConfig, maxAttempts: 2 }),
    organizationsClient: (credentials) => new OrganizationsClient({ ...client, credentials }),
    iamClient: (credentials) =>
      new IAMClient({ ...client, credentials: credentials ?? aws.clientConfig.credentials }),
    pollIntervalMs: 1,
  });
  return {
    ...iam,
    // Counts the accounts being read at once: the fan-out's bound.
    async readAccount(account, keys, progress) {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await iam.readAccount(account, keys, progress);
      } finally {
        inFlight--;
      }
    },
  };
}

async function sync(world: InventoryWorld, extra: string[] = []) {
  const io = capture();
  const deps = async () => ({ ...(await world.deps()()), organization: async () => liveOrganization() });
  const error = await inventoryCommand(["sync", "--config", world.configPath, ...extra], io, deps).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, stdout: io.stdout(), stderr: io.stderr() };
}

const orgWorld = (o: Record<string, unknown> = {}) =>
  inventoryWorld({
    ownerTagKeys: ["owner"],
    organization: {
      roleArn: LISTING_ROLE,
      memberRoleName: MEMBER_ROLE_NAME,
      excludeAccounts: scenario.excluded,
      concurrency: CONCURRENCY,
      ...o,
    },
  });

beforeAll(async () => {
  const iam = iamInventoryActions(scenario.iam, { pollsUntilComplete: 0, throttle: THROTTLED });
  const org = organizationsActions(scenario.listed, { managementAccount: MANAGEMENT });
  aws = await startAwsQueryServer({ extraActions: iam.actions, jsonActions: org.actions });
  aws.intercept("AssumeRole", (params) => {
    const account = String(params["RoleArn"]).split(":")[4]!;
    if (REFUSING.has(account))
      throw new QueryFault(
        "AccessDenied",
        403,
        `User is not authorized to perform: sts:AssumeRole on resource: ${params["RoleArn"]}`,
      );
  });
});
afterAll(async () => {
  await aws.close();
  await closeSharedDynamo();
});

describe("inventory sync over an organisation", () => {
  it("syncs 1,000 accounts: each ends ok or with its error, and nothing of a failed account is lost", async () => {
    const world = await orgWorld();
    // A previous snapshot of every account that will fail, an hour before.
    const previous = new Date(world.clock.now() - 3_600_000).toISOString();
    for (const accountId of FAILING) {
      const summary: SnapshotSummary = {
        accountId,
        snapshotTime: previous,
        generatedTime: null,
        source: "live",
        principals: 1,
        counts: { ...PER_ACCOUNT_COUNTS, "stale-principals": 1, "orphaned-principals": 1 },
        keys: { replaced: 0, unreplaced: 0, stillUsedAfterReplacement: 0 },
        brokerPrincipals: [],
      };
      const record = {
        kind: "role" as const,
        arn: `arn:aws:iam::${accountId}:role/old`,
        name: "old",
        accountId,
      };
      await world.inventory.putSnapshot(summary, [
        { ...record, orphaned: "no owner tag", stale: "never used" },
      ]);
    }

    const { error, stdout, stderr } = await sync(world, ["--json"]);
    const out = JSON.parse(stdout);
    const snapshotTime = new Date(world.clock.now()).toISOString();
    expect(out).toMatchObject({
      snapshotTime,
      listed: COUNT,
      ok: COUNT - 25,
      complete: true,
      pending: [],
      timedOut: [],
    });
    expect(out.skipped).toEqual([
      ...scenario.excluded.map((accountId) => ({
        accountId,
        why: "excluded by inventory.organization.excludeAccounts",
      })),
      { accountId: scenario.inactive[0], why: "status SUSPENDED" },
      { accountId: scenario.inactive[1], why: "status PENDING_CLOSURE" },
    ]);
    // Every listed account once, each ok or with its own error.
    expect(out.accounts.map((a: { accountId: string }) => a.accountId)).toEqual(scenario.members);
    const errors = Object.fromEntries(
      out.accounts
        .filter((a: { status: string }) => a.status === "error")
        .map((a: { accountId: string; error: string }) => [a.accountId, a.error]),
    );
    expect(Object.keys(errors).sort()).toEqual(FAILING);
    for (const id of REFUSING)
      expect(errors[id]).toBe(
        `sts:AssumeRole into arn:aws:iam::${id}:role/${MEMBER_ROLE_NAME} failed: AccessDenied: User is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${id}:role/${MEMBER_ROLE_NAME}`,
      );
    for (const id of THROTTLED)
      expect(errors[id]).toBe(
        `account ${id}: iam:GenerateCredentialReport failed: Throttling (IAM is throttling the broker; try again later): Rate exceeded`,
      );
    expect(out.notSynced).toEqual(FAILING);
    expect(out.failed).toHaveLength(25);
    for (const a of out.accounts.filter((x: { status: string }) => x.status === "ok")) {
      expect(a.principals).toBe(10); // ten roles (a root without keys is no principal of the debt)
      expect(a.counts).toEqual(PER_ACCOUNT_COUNTS);
    }
    // The exit status names what was not synced.
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).message).toBe(
      `inventory sync: 25 of ${COUNT} accounts not synced (${FAILING.join(", ")}); their previous snapshots stay the newest`,
    );
    expect(stderr).toContain(`organization: ${COUNT + 4} accounts listed, ${COUNT} to sync, 4 left out`);
    // Bounded: never more accounts at once than configured, and more than one.
    expect(maxInFlight).toBeLessThanOrEqual(CONCURRENCY);
    expect(maxInFlight).toBeGreaterThan(1);
    // ListAccounts paged 20 at a time, through the listing role; nothing read of the accounts left out.
    expect(aws.callsTo("ListAccounts")).toHaveLength(Math.ceil((COUNT + 4) / 20));
    const entered = aws.callsTo("AssumeRole").map((c) => c.params["RoleArn"]);
    expect(entered[0]).toBe(LISTING_ROLE);
    expect(new Set(entered.slice(1))).toEqual(
      new Set(scenario.members.map((id) => `arn:aws:iam::${id}:role/${MEMBER_ROLE_NAME}`)),
    );

    // A failed account's newest snapshot is still its previous one; the others' is this run's.
    for (const id of FAILING)
      expect((await world.inventory.listSummaries(id)).map((s) => s.snapshotTime)).toEqual([previous]);
    expect((await world.inventory.listSummaries(memberAccount(0))).map((s) => s.snapshotTime)).toEqual([
      snapshotTime,
    ]);

    // The report's verdicts add up exactly: 975 fresh snapshots and the 25 previous ones.
    const debt = await debtFromStore(world.inventory, world.clock.now());
    const actual = Object.fromEntries(debt.verdicts.map((v) => [v.criterion, v.actual]));
    const expected = Object.fromEntries(
      DEBT_CRITERIA.map((c) => [
        c,
        (COUNT - 25) * PER_ACCOUNT_COUNTS[c] + (c.endsWith("-principals") ? 25 : 0),
      ]),
    );
    expect(actual).toEqual(expected);
    expect(debt.accounts).toHaveLength(COUNT);
    expect(debt.organization).toMatchObject({
      listed: COUNT,
      ok: COUNT - 25,
      notSynced: FAILING,
      complete: true,
    });
  }, 600_000);

  it("syncs one account of the organisation with --account, and prints the counts", async () => {
    const world = await orgWorld();
    const { error, stdout } = await sync(world, ["--account", memberAccount(1)]);
    expect(error).toBeUndefined();
    expect(stdout).toContain(
      `organization snapshot ${new Date(world.clock.now()).toISOString()}: 1 of 1 accounts synced, 0 failed, 0 left out`,
    );
    expect(stdout).toMatch(/orphaned-principals\s+5\n/);
    expect(await world.inventory.listAccounts()).toEqual([memberAccount(1)]);
    const excluded = await sync(world, ["--account", scenario.excluded[0]!]);
    expect((excluded.error as CliError).message).toBe(
      `inventory sync: account ${scenario.excluded[0]} is not an ACTIVE, included account of the organisation; nothing was stored`,
    );
  });

  it("stores nothing when Organizations refuses the listing", async () => {
    const world = await orgWorld();
    aws.failNext("ListAccounts", { code: "AccessDeniedException", status: 400, message: "not allowed" });
    const { error } = await sync(world);
    expect((error as CliError).message).toBe(
      "inventory sync: organizations:ListAccounts failed: AccessDeniedException: not allowed; nothing was stored",
    );
    expect(await world.inventory.listAccounts()).toEqual([]);
  });
});
