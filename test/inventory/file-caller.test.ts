// CONTRACT §9 and issue 27: a file sync counts the broker's own principal as a live sync does (STS
// GetCallerIdentity, when AWS credentials are at hand), so one account gives the same `broker-bypass`
// whichever way it was read; without credentials it counts only inventory.brokerPrincipals and says so.

import { writeFile } from "node:fs/promises";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerIdentity, readAccountLive } from "../../lib/aws/iam-inventory.ts";
import { credentialsAtHand, inventoryCommand, type LiveIam } from "../../lib/cli/inventory.ts";
import { newestSnapshots } from "../../lib/core/inventory/gather.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { ACCOUNT, authorizationDetails, credentialReportCsv } from "./scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

/** The fixture's STS answers GetCallerIdentity with this ARN: the broker's own principal. */
const CALLER = `arn:aws:iam::${ACCOUNT}:user/fixture`;

/** The scenario, with the task role db-rotator trusting the broker's own caller (and nobody else). */
function details() {
  const d = authorizationDetails();
  const rotator = d.RoleDetailList.find((r) => r.RoleName === "db-rotator")!;
  rotator.AssumeRolePolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: CALLER }, Action: "sts:AssumeRole" }],
  };
  return d;
}

let aws: AwsQueryServer;

function liveIam(): LiveIam {
  const sts = new STSClient({ ...aws.clientConfig, maxAttempts: 1 });
  return {
    caller: () => callerIdentity(sts),
    readAccount: (account, keys, progress) =>
      readAccountLive(account, keys, {
        sts,
        progress,
        pollIntervalMs: 1,
        iamClient: () =>
          new IAMClient({
            endpoint: aws.url,
            region: "us-east-1",
            credentials: aws.clientConfig.credentials,
            maxAttempts: 1,
          }),
      }),
  };
}

beforeAll(async () => {
  const iam = iamInventoryActions(
    { [ACCOUNT]: { details: details(), credentialReportCsv: credentialReportCsv() } },
    { pageSize: 100, pollsUntilComplete: 1, generatedTime: "2026-11-30T09:58:00Z" },
  );
  aws = await startAwsQueryServer({ extraActions: iam.actions });
});
afterAll(async () => {
  await aws.close();
  await closeSharedDynamo();
});

async function run(world: InventoryWorld, args: string[], live: LiveIam | undefined) {
  const io = capture();
  await inventoryCommand(["sync", "--config", world.configPath, "--json", ...args], io, world.deps(live));
  return { summary: JSON.parse(io.stdout())[0], stderr: io.stderr() };
}

/** What a snapshot says of each principal, without when it was taken. */
const itemsOf = async (world: InventoryWorld) =>
  (await newestSnapshots(world.inventory)).flatMap((s) => s.records).sort((a, b) => (a.arn < b.arn ? -1 : 1));

const fileArgs = (world: InventoryWorld) => [
  "--credential-report",
  world.files.credentialReport,
  "--authorization-details",
  world.files.authorizationDetails,
];

describe("inventory sync from files, and the broker's own principal", () => {
  it("gives the same verdicts and items as a live sync of the same account", async () => {
    const liveWorld = await inventoryWorld({ ownerTagKeys: ["owner", "team"], brokerPrincipals: [] });
    const live = await run(liveWorld, [], liveIam());

    const fileWorld = await inventoryWorld({ ownerTagKeys: ["owner", "team"], brokerPrincipals: [] });
    await writeFile(fileWorld.files.authorizationDetails, JSON.stringify(details()));
    const files = await run(fileWorld, fileArgs(fileWorld), liveIam());

    expect(files.summary.source).toBe("files");
    expect(files.summary.brokerPrincipals).toEqual([CALLER]);
    expect(files.summary.brokerPrincipalsFrom).toBe("caller-identity");
    expect(files.summary.counts).toEqual(live.summary.counts);
    expect(files.summary.keys).toEqual(live.summary.keys);
    const fileItems = await itemsOf(fileWorld);
    expect(fileItems).toEqual(await itemsOf(liveWorld));
    // The role only the broker's own caller may assume is no bypass either way.
    expect(fileItems.find((r) => r.arn.endsWith("role/db-rotator"))?.bypass).toBeFalsy();
  });

  it("without credentials at hand counts only the configured principals, and says so", async () => {
    const world = await inventoryWorld({ ownerTagKeys: ["owner", "team"], brokerPrincipals: [] });
    await writeFile(world.files.authorizationDetails, JSON.stringify(details()));
    const { summary, stderr } = await run(world, fileArgs(world), undefined);
    expect(summary.brokerPrincipals).toEqual([]);
    expect(summary.brokerPrincipalsFrom).toBe("config");
    expect(stderr).toContain("no AWS credentials at hand");
    // Then the role that trusts the (unknown) caller is a way round the broker.
    const items = await itemsOf(world);
    expect(items.find((r) => r.arn.endsWith("role/db-rotator"))?.bypass).toBeTruthy();
  });

  it.each([
    [{}, false],
    [{ AWS_ACCESS_KEY_ID: "AKIAEXAMPLE" }, true],
    [{ AWS_PROFILE: "ci" }, true],
    [{ AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials" }, true],
  ])("finds credentials at hand in %j: %s (never by asking instance metadata)", (env, expected) => {
    expect(credentialsAtHand(env, "/nonexistent-home")).toBe(expected);
  });
});
