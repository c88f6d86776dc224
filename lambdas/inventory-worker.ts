// The organisation inventory's worker (CONTRACT §16): one SQS message, one member account. It syncs the
// account through its member role and records `ok` or the error in the run. A failed account is reported
// back as a batch item failure, so SQS retries it and, after the queue's receives, moves it to the DLQ
// (whose alarm fires); its previous snapshot stays its newest meanwhile.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { STSClient } from "@aws-sdk/client-sts";
import { emfLine } from "../lib/aws/emf.ts";
import { parseAccountMessage } from "../lib/aws/inventory-queue.ts";
import { DynamoInventoryStore } from "../lib/aws/inventory-store.ts";
import { organizationIam } from "../lib/aws/organization-inventory.ts";
import { systemClock } from "../lib/core/clock.ts";
import { runContext, syncOrganizationAccount } from "../lib/core/inventory/organization.ts";
import { jsonLogger } from "../lib/core/logger.ts";
import { readBrokerPrincipals, readLambdaEnv } from "../lib/runtime/lambda-env.ts";
import { loadBundledConfig } from "../lib/runtime/lambda-runtime.ts";

const env = readLambdaEnv();
const resolved = loadBundledConfig(env.configBundlePath);
const store = new DynamoInventoryStore(new DynamoDBClient({}), env.tableName);
const iam = organizationIam({ sts: new STSClient({}) });
const brokerPrincipals = readBrokerPrincipals(process.env);
const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });
const dimensions = { FunctionName: process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "credbroker-inventory-worker" };

interface SqsEvent {
  Records: { messageId: string; body: string }[];
}

export const handler = async (event: SqsEvent) => {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const message = parseAccountMessage(record.body);
    const options = {
      config: resolved.config,
      store,
      runs: store.organizationRuns,
      clock: systemClock,
      source: "live" as const,
      brokerPrincipals,
      progress: (line: string) => log.info("inventory", { progress: line }),
    };
    const ctx = await runContext(iam, options, message.snapshotTime);
    const result = await syncOrganizationAccount(iam, ctx, message, options);
    const failed = result.status === "error";
    process.stdout.write(
      emfLine(
        { InventoryAccountErrors: { value: failed ? 1 : 0, unit: "Count" } },
        { timestampMs: Date.now(), dimensions },
      ),
    );
    if (failed) {
      log.error("inventory account not synced", { accountId: result.accountId, message: result.error });
      failures.push({ itemIdentifier: record.messageId });
    } else
      log.info("inventory account synced", { accountId: result.accountId, principals: result.principals });
  }
  return { batchItemFailures: failures };
};
