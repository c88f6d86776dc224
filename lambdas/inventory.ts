// The daily inventory sync (EventBridge): reads every configured account's IAM and stores a snapshot
// (CONTRACT §9). A failed sync stores nothing, throws, and so trips the construct's alarm. With
// `inventory.organization` (CONTRACT §16) it only lists the organisation's accounts, records the run and
// enqueues one message per account for the worker (lambdas/inventory-worker.ts).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { STSClient } from "@aws-sdk/client-sts";
import { emfLine } from "../lib/aws/emf.ts";
import { callerIdentity, readAccountLive } from "../lib/aws/iam-inventory.ts";
import { DynamoInventoryStore } from "../lib/aws/inventory-store.ts";
import { systemClock } from "../lib/core/clock.ts";
import { syncLive } from "../lib/core/inventory/sync.ts";
import { jsonLogger } from "../lib/core/logger.ts";
import { readBrokerPrincipals, readLambdaEnv } from "../lib/runtime/lambda-env.ts";
import { loadBundledConfig } from "../lib/runtime/lambda-runtime.ts";

const env = readLambdaEnv();
const resolved = loadBundledConfig(env.configBundlePath);
const store = new DynamoInventoryStore(new DynamoDBClient({}), env.tableName);
const brokerPrincipals = readBrokerPrincipals(process.env);
const sts = new STSClient({});
const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });
const dimensions = { FunctionName: process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "credbroker-inventory" };

const organizationRun = async () => {
  const [
    { SQSClient },
    { enqueueAccounts, INVENTORY_QUEUE_ENV },
    { organizationIam },
    { startOrganizationRun },
  ] = await Promise.all([
    import("@aws-sdk/client-sqs"),
    import("../lib/aws/inventory-queue.ts"),
    import("../lib/aws/organization-inventory.ts"),
    import("../lib/core/inventory/organization.ts"),
  ]);
  const queueUrl = process.env[INVENTORY_QUEUE_ENV];
  if (!queueUrl) throw new Error(`environment variable ${INVENTORY_QUEUE_ENV} is not set`);
  const { run, messages } = await startOrganizationRun(organizationIam({ sts }), {
    config: resolved.config,
    clock: systemClock,
    runs: store.organizationRuns,
    progress: (line) => log.info("inventory", { progress: line }),
  });
  await enqueueAccounts(new SQSClient({}), queueUrl, messages);
  log.info("inventory run started", { snapshotTime: run.snapshotTime, accounts: run.accounts.length });
  return { snapshotTime: run.snapshotTime, accounts: run.accounts.length, skipped: run.skipped.length };
};

export const handler = async () => {
  try {
    if (resolved.config.inventory?.organization) return await organizationRun();
    const summaries = await syncLive(
      {
        caller: () => callerIdentity(sts),
        readAccount: (account, keys, progress) => readAccountLive(account, keys, { sts, progress }),
      },
      {
        config: resolved.config,
        store,
        clock: systemClock,
        source: "live",
        brokerPrincipals,
        progress: (line) => log.info("inventory", { progress: line }),
      },
    );
    log.info("inventory synced", { summaries });
    process.stdout.write(
      emfLine({ InventorySyncErrors: { value: 0, unit: "Count" } }, { timestampMs: Date.now(), dimensions }),
    );
    return summaries.map((s) => ({ accountId: s.accountId, snapshotTime: s.snapshotTime, counts: s.counts }));
  } catch (err) {
    process.stdout.write(
      emfLine({ InventorySyncErrors: { value: 1, unit: "Count" } }, { timestampMs: Date.now(), dimensions }),
    );
    // The message is one line naming the call or input that failed; never a credential.
    log.error("inventory sync failed", { error: (err as Error).name, message: (err as Error).message });
    throw err;
  }
};
