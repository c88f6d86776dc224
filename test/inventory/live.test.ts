// `inventory sync` against a loopback IAM speaking the Query protocol: the credential report polled until
// COMPLETE, authorization details paged with Marker, another account read through its inventory role, and
// the same counts as from the CLI's files. IAM throttling, an account the broker cannot enter and a report
// that never completes are each one line, exit 1, nothing stored.
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { callerIdentity, readAccountLive } from "../../lib/aws/iam-inventory.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { inventoryCommand, type LiveIam } from "../../lib/cli/inventory.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import {
  ACCOUNT,
  authorizationDetails,
  BROKER_ROLE,
  credentialReportCsv,
  credentialReportRows,
  EXPECTED_COUNTS,
} from "./scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

const OTHER = "444455556666";
const OTHER_ROLE = `arn:aws:iam::${OTHER}:role/credbroker-inventory`;
const otherAccount = {
  details: {
    UserDetailList: [
      {
        Path: "/",
        UserName: "legacy",
        UserId: "AIDALEGACY",
        Arn: `arn:aws:iam::${OTHER}:user/legacy`,
        CreateDate: "2024-01-01T00:00:00Z",
      },
    ],
    GroupDetailList: [],
    RoleDetailList: [],
    Policies: [],
  },
  credentialReportCsv: credentialReportCsv([
    {
      ...credentialReportRows()[3],
      user: "legacy",
      arn: `arn:aws:iam::${OTHER}:user/legacy`,
    },
  ]),
};

let aws: AwsQueryServer;
let iam: ReturnType<typeof iamInventoryActions>;
const PAGE = 4;
const maxPolls = { value: 10 };

function liveIam(): LiveIam {
  const sts = new STSClient({ ...aws.clientConfig, maxAttempts: 2 });
  return {
    caller: () => callerIdentity(sts),
    readAccount: (account, keys, progress) =>
      readAccountLive(account, keys, {
        sts,
        progress,
        pollIntervalMs: 1,
        maxPolls: maxPolls.value,
        iamClient: (credentials) =>
          new IAMClient({
            endpoint: aws.url,
            region: "us-east-1",
            credentials: credentials ?? aws.clientConfig.credentials,
            retryStrategy: undefined,
            maxAttempts: 2,
          }),
      }),
  };
}

async function sync(world: InventoryWorld, extra: string[] = []) {
  const io = capture();
  await inventoryCommand(
    ["sync", "--config", world.configPath, "--json", ...extra],
    io,
    world.deps(liveIam()),
  );
  return { summaries: JSON.parse(io.stdout()), stderr: io.stderr() };
}

async function refused(world: InventoryWorld): Promise<string> {
  const before = await Promise.all([ACCOUNT, OTHER].map((a) => world.inventory.listSummaries(a)));
  world.clock.advance(60_000);
  const err = await sync(world).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CliError);
  const message = (err as CliError).message;
  expect(message).not.toContain("\n");
  expect(await Promise.all([ACCOUNT, OTHER].map((a) => world.inventory.listSummaries(a)))).toEqual(before);
  return message;
}

beforeAll(async () => {
  iam = iamInventoryActions(
    {
      [ACCOUNT]: { details: authorizationDetails(), credentialReportCsv: credentialReportCsv() },
      [OTHER]: otherAccount,
    },
    { pageSize: PAGE, pollsUntilComplete: 2, generatedTime: "2026-11-30T09:58:00Z" },
  );
  aws = await startAwsQueryServer({ extraActions: iam.actions });
});
beforeEach(() => {
  aws.reset();
  iam.reset();
  maxPolls.value = 10;
});
afterAll(async () => {
  await aws.close();
  await closeSharedDynamo();
});

describe("inventory sync, live", () => {
  it("polls the credential report, pages the details, and counts what the files count", async () => {
    const world = await inventoryWorld();
    const { summaries, stderr } = await sync(world);
    expect(summaries).toHaveLength(1);
    expect(summaries[0]).toMatchObject({
      accountId: ACCOUNT,
      source: "live",
      generatedTime: "2026-11-30T09:58:00.000Z",
      counts: { ...EXPECTED_COUNTS, "privileged-unreviewed": 7 },
      keys: { replaced: 2, unreplaced: 4, stillUsedAfterReplacement: 1 },
      brokerPrincipals: [BROKER_ROLE, `arn:aws:iam::${ACCOUNT}:user/fixture`],
    });
    expect(aws.callsTo("GenerateCredentialReport")).toHaveLength(3);
    expect(aws.callsTo("GetCredentialReport")).toHaveLength(1);
    const d = authorizationDetails();
    const elements =
      d.UserDetailList.length + d.GroupDetailList.length + d.RoleDetailList.length + d.Policies.length;
    const pages = aws.callsTo("GetAccountAuthorizationDetails");
    expect(pages).toHaveLength(Math.ceil(elements / PAGE));
    expect(pages[0]?.params["Marker"]).toBeUndefined();
    expect(pages.slice(1).every((p) => p.params["Marker"])).toBe(true);
    expect(stderr).toMatch(/credential report STARTED \(poll 1 of 10\)/);
    expect(stderr).toMatch(/authorization details in 5 pages/);
  });

  it("reads another account through its inventory role", async () => {
    const world = await inventoryWorld({
      ownerTagKeys: ["owner", "team"],
      brokerPrincipals: [BROKER_ROLE],
      accounts: [{ accountId: ACCOUNT }, { accountId: OTHER, roleArn: OTHER_ROLE }],
    });
    const { summaries } = await sync(world);
    expect(summaries.map((s: { accountId: string }) => s.accountId)).toEqual([ACCOUNT, OTHER]);
    expect(aws.callsTo("AssumeRole").map((c) => [c.params["RoleArn"], c.params["RoleSessionName"]])).toEqual([
      [OTHER_ROLE, "credbroker-inventory"],
    ]);
    expect(summaries[1].counts).toEqual({
      "privileged-unreviewed": 0,
      "orphaned-principals": 1,
      "stale-principals": 1,
      "long-lived-keys": 2,
      "broker-bypass": 0,
      "static-secrets": 0,
    });
    // --account syncs just one.
    world.clock.advance(60_000);
    const one = await sync(world, ["--account", OTHER]);
    expect(one.summaries.map((s: { accountId: string }) => s.accountId)).toEqual([OTHER]);
  });

  describe("stores nothing when", () => {
    let world: InventoryWorld;
    beforeAll(async () => {
      world = await inventoryWorld({
        ownerTagKeys: ["owner", "team"],
        brokerPrincipals: [BROKER_ROLE],
        accounts: [{ accountId: ACCOUNT }, { accountId: OTHER, roleArn: OTHER_ROLE }],
      });
      await sync(world);
      iam.reset();
    });

    it("the broker cannot assume into an account", async () => {
      aws.failNext("AssumeRole", { code: "AccessDenied", status: 403, message: "not authorized to assume" });
      expect(await refused(world)).toBe(
        `inventory sync: sts:AssumeRole into ${OTHER_ROLE} failed: AccessDenied: not authorized to assume; nothing was stored`,
      );
    });

    it("IAM throttles", async () => {
      aws.failNext("GetAccountAuthorizationDetails", {
        code: "Throttling",
        status: 400,
        message: "Rate exceeded",
        times: 50,
      });
      expect(await refused(world)).toMatch(
        /^inventory sync: account 111122223333: iam:GetAccountAuthorizationDetails failed: Throttling \(IAM is throttling the broker; try again later\): Rate exceeded; nothing was stored$/,
      );
    });

    it("the credential report never completes", async () => {
      maxPolls.value = 2;
      expect(await refused(world)).toBe(
        "inventory sync: account 111122223333: the credential report was not COMPLETE after 2 polls (last state INPROGRESS); nothing was stored",
      );
    });
  });
});
