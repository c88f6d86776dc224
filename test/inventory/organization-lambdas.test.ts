// The organisation inventory's two functions (lambdas/inventory.ts with inventory.organization, and
// lambdas/inventory-worker.ts) as Lambda runs them, in process: their environment set as the construct
// sets it, the config bundle on disk, AWS faked at the wire (Organizations, STS, IAM, SQS) and dynalite.
// The schedule's run enqueues every account; the worker, handed those messages as an SQS event, syncs
// each and reports the account it could not sync as a batch item failure, so SQS retries it.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INVENTORY_QUEUE_ENV } from "../../lib/aws/inventory-queue.ts";
import { loadConfigFileSync, toConfigBundle } from "../../lib/config/load-sync.ts";
import { runStatus } from "../../lib/core/inventory/organization.ts";
import { type AwsQueryServer, QueryFault, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import { organizationsActions } from "../fixtures/organizations.ts";
import { closeSharedDynamo, sharedDynamo } from "../support/broker.ts";
import {
  LISTING_ROLE,
  MANAGEMENT,
  MEMBER_ROLE_NAME,
  memberAccount,
  organizationScenario,
} from "./organization-scenario.ts";
import { type InventoryWorld, inventoryWorld } from "./support.ts";

const COUNT = 12;
const scenario = organizationScenario(COUNT);
const REFUSING = memberAccount(5);
const queued: string[] = [];
let aws: AwsQueryServer;
let world: InventoryWorld;
const saved = { ...process.env };

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
          for (const e of entries) queued.push(e.MessageBody);
          return {
            Successful: entries.map((e) => ({
              Id: e.Id,
              MessageId: `m-${e.Id}`,
              MD5OfMessageBody: createHash("md5").update(e.MessageBody).digest("hex"),
            })),
            Failed: [],
          };
        },
      },
    },
  });
  aws.intercept("AssumeRole", (params) => {
    if (String(params["RoleArn"]).includes(`::${REFUSING}:`))
      throw new QueryFault("AccessDenied", 403, "not authorized to assume");
  });
  world = await inventoryWorld({
    ownerTagKeys: ["owner"],
    organization: {
      roleArn: LISTING_ROLE,
      memberRoleName: MEMBER_ROLE_NAME,
      excludeAccounts: scenario.excluded,
    },
  });
  const bundle = join(world.dir, "credbroker.config.json");
  writeFileSync(bundle, JSON.stringify(toConfigBundle(loadConfigFileSync(world.configPath))));
  const dynamo = await sharedDynamo();
  const table = (world.inventory as unknown as { table: string }).table;
  Object.assign(process.env, aws.env(), {
    AWS_ENDPOINT_URL_ORGANIZATIONS: aws.url,
    AWS_ENDPOINT_URL_SQS: aws.url,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_MAX_ATTEMPTS: "1",
    CREDBROKER_TABLE: table,
    CREDBROKER_CONFIG_BUNDLE: bundle,
    // The SDK sends to the queue URL's own host: the fixture's.
    [INVENTORY_QUEUE_ENV]: `${aws.url}/111122223333/credbroker-inventory`,
    CREDBROKER_BROKER_PRINCIPALS: JSON.stringify(["arn:aws:iam::111122223333:role/credbroker-token"]),
  });
});
afterAll(async () => {
  process.env = saved;
  await aws.close();
  await closeSharedDynamo();
});

describe("the organisation inventory's functions", () => {
  it("start a run that enqueues every account, and sync one account per message", async () => {
    const scheduler = (await import("../../lambdas/inventory.ts")).handler;
    expect(await scheduler()).toMatchObject({ accounts: COUNT, skipped: 4 });
    expect(queued).toHaveLength(COUNT);

    const worker = (await import("../../lambdas/inventory-worker.ts")).handler;
    const out = await worker({ Records: queued.map((body, i) => ({ messageId: `msg-${i}`, body })) });
    const refusedIndex = queued.findIndex((b) => JSON.parse(b).accountId === REFUSING);
    expect(out).toEqual({ batchItemFailures: [{ itemIdentifier: `msg-${refusedIndex}` }] });

    const run = await world.inventory.organizationRuns.latestRun();
    expect(runStatus(run!.run, run!.results, Date.now())).toMatchObject({
      complete: true,
      ok: COUNT - 1,
      notSynced: [REFUSING],
    });
    // The worker entered each member account through its member role, and nothing else.
    const entered = aws.callsTo("AssumeRole").map((c) => c.params["RoleArn"]);
    expect(entered.filter((r) => r !== LISTING_ROLE).sort()).toEqual(
      scenario.members.map((id) => `arn:aws:iam::${id}:role/${MEMBER_ROLE_NAME}`),
    );
  });
});
