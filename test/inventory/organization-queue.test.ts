// The organisation inventory's AWS path (CONTRACT §16) over the wire: the schedule's run enqueues one SQS
// message per account (SendMessageBatch, ten a call, refused entries sent again), and the worker's steps —
// parse the message, sync that one account, record its outcome — complete the run, each account ok or
// with its error; a message that is not the schedule's is refused.
import { createHash } from "node:crypto";
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enqueueAccounts, parseAccountMessage } from "../../lib/aws/inventory-queue.ts";
import { organizationIam } from "../../lib/aws/organization-inventory.ts";
import { inventorySchema } from "../../lib/config/schema.ts";
import {
  runContext,
  runStatus,
  startOrganizationRun,
  syncOrganizationAccount,
} from "../../lib/core/inventory/organization.ts";
import { type AwsQueryServer, QueryFault, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { organizationsActions } from "../fixtures/organizations.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import {
  LISTING_ROLE,
  MANAGEMENT,
  MEMBER_ROLE_NAME,
  memberAccount,
  organizationScenario,
} from "./organization-scenario.ts";
import { inventoryWorld } from "./support.ts";

const COUNT = 25;
const scenario = organizationScenario(COUNT);
const REFUSING = memberAccount(3);
const QUEUE = "https://sqs.us-east-1.amazonaws.com/111122223333/credbroker-inventory";
let aws: AwsQueryServer;
const queued: { QueueUrl: string; Id: string; MessageBody: string }[] = [];
let refuseOnce = new Set<string>();

beforeAll(async () => {
  const iam = iamInventoryActions(scenario.iam, { pollsUntilComplete: 0 });
  const org = organizationsActions(scenario.listed, { managementAccount: MANAGEMENT });
  aws = await startAwsQueryServer({
    extraActions: iam.actions,
    jsonActions: {
      ...org.actions,
      "AmazonSQS.SendMessageBatch": {
        service: "sqs",
        run: (body) => {
          const entries = body["Entries"] as { Id: string; MessageBody: string }[];
          if (entries.length > 10)
            throw new QueryFault("AWS.SimpleQueueService.TooManyEntriesInBatchRequest", 400, "max 10");
          const failed = entries.filter((e) => refuseOnce.delete(e.Id));
          const ok = entries.filter((e) => !failed.includes(e));
          for (const e of ok) queued.push({ QueueUrl: String(body["QueueUrl"]), ...e });
          return {
            Successful: ok.map((e) => ({
              Id: e.Id,
              MessageId: `m-${e.Id}`,
              MD5OfMessageBody: createHash("md5").update(e.MessageBody).digest("hex"),
            })),
            Failed: failed.map((e) => ({ Id: e.Id, SenderFault: false, Code: "InternalError" })),
          };
        },
      },
    },
  });
  aws.intercept("AssumeRole", (params) => {
    if (String(params["RoleArn"]).includes(`::${REFUSING}:`))
      throw new QueryFault("AccessDenied", 403, "not authorized to assume");
  });
});
afterAll(async () => {
  await aws.close();
  await closeSharedDynamo();
});

describe("the organisation inventory's queue", () => {
  it("enqueues one message per account and completes the run as the workers report", async () => {
    const world = await inventoryWorld({
      ownerTagKeys: ["owner"],
      organization: {
        roleArn: LISTING_ROLE,
        memberRoleName: MEMBER_ROLE_NAME,
        excludeAccounts: scenario.excluded,
      },
    });
    const client = {
      endpoint: aws.url,
      region: "us-east-1",
      credentials: aws.clientConfig.credentials,
    } as const;
    const iam = organizationIam({
      sts: new STSClient({ ...aws.clientConfig, maxAttempts: 1 }),
      organizationsClient: (credentials) => new OrganizationsClient({ ...client, credentials }),
      iamClient: (credentials) =>
        new IAMClient({ ...client, credentials: credentials ?? client.credentials }),
      pollIntervalMs: 1,
    });
    const config = {
      workloads: [],
      tasks: [],
      inventory: inventorySchema.parse({
        organization: {
          roleArn: LISTING_ROLE,
          memberRoleName: MEMBER_ROLE_NAME,
          excludeAccounts: scenario.excluded,
        },
      }),
    };
    const runs = world.inventory.organizationRuns;
    const { run, messages } = await startOrganizationRun(iam, { config, clock: world.clock, runs });
    refuseOnce = new Set([memberAccount(0), memberAccount(11)]);
    await enqueueAccounts(new SQSClient({ ...client }), QUEUE, messages);
    // Three batches (10, 10, 5); the refused entry of each of the first two sent again: every account once.
    expect(aws.callsTo("SendMessageBatch")).toHaveLength(5);
    expect(queued.map((q) => JSON.parse(q.MessageBody).accountId).sort()).toEqual(scenario.members);
    expect(new Set(queued.map((q) => q.QueueUrl))).toEqual(new Set([QUEUE]));

    // Nothing reported yet: the run is pending.
    const before = await runs.latestRun();
    expect(runStatus(before!.run, before!.results, world.clock.now())).toMatchObject({
      complete: false,
      pending: scenario.members,
    });
    // Each message as the worker handles it.
    const options = { config, store: world.inventory, runs, clock: world.clock, source: "live" as const };
    for (const q of queued) {
      const message = parseAccountMessage(q.MessageBody);
      const ctx = await runContext(iam, options, message.snapshotTime);
      await syncOrganizationAccount(iam, ctx, message, options);
    }
    const after = await runs.latestRun();
    expect(after!.run.snapshotTime).toBe(run.snapshotTime);
    expect(runStatus(after!.run, after!.results, world.clock.now())).toMatchObject({
      complete: true,
      ok: COUNT - 1,
      failed: [
        {
          accountId: REFUSING,
          error: `sts:AssumeRole into arn:aws:iam::${REFUSING}:role/${MEMBER_ROLE_NAME} failed: AccessDenied: not authorized to assume`,
        },
      ],
      notSynced: [REFUSING],
    });
  });

  it.each([
    ["not JSON", "{"],
    [
      "a field too many",
      JSON.stringify({
        snapshotTime: "2026-11-30T10:00:00.000Z",
        accountId: "123456789012",
        roleArn: "arn:aws:iam::123456789012:role/x",
        extra: 1,
      }),
    ],
    [
      "a bad account",
      JSON.stringify({
        snapshotTime: "2026-11-30T10:00:00.000Z",
        accountId: "12",
        roleArn: "arn:aws:iam::123456789012:role/x",
      }),
    ],
  ])("refuses a message that is %s", (_why, body) => {
    expect(() => parseAccountMessage(body)).toThrow();
  });
});
