// What admin commands read from the environment, read once by typed readers (STYLE.md: environment read once).
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { CliError } from "./errors.ts";

export function configPathFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const path = flag ?? env["CREDBROKER_CONFIG"];
  if (!path) throw new CliError("no config: pass --config FILE or set CREDBROKER_CONFIG");
  return path;
}

export function tableFrom(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const table = flag ?? env["CREDBROKER_TABLE"];
  if (!table)
    throw new CliError("no table: pass --table NAME or set CREDBROKER_TABLE (credbroker dev prints it)");
  return table;
}

const isLoopback = (url: string) => {
  try {
    return ["127.0.0.1", "localhost", "[::1]"].includes(new URL(url).hostname);
  } catch {
    return false;
  }
};

/** A DynamoDB client from the SDK's own environment; a loopback endpoint (dev) needs no AWS credentials. */
export function dynamoClientFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const endpoint = env["AWS_ENDPOINT_URL_DYNAMODB"] ?? env["AWS_ENDPOINT_URL"];
  if (endpoint && isLoopback(endpoint)) {
    return new DynamoDBClient({
      endpoint,
      region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "local",
      ...(env["AWS_ACCESS_KEY_ID"]
        ? {}
        : { credentials: { accessKeyId: "local", secretAccessKey: "local" } }),
    });
  }
  return new DynamoDBClient({});
}

/** How long finished grants and audit events are kept: the loaded config's, else the store's default. */
export interface Retention {
  grantRetentionDays?: number;
  auditRetentionDays?: number;
}

export function storeFromEnv(
  tableFlag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  retention: Retention = {},
): DynamoGrantStore {
  // The deployed functions' shard count (the stack sets CREDBROKER_DUE_SHARDS): a sweep by hand must read
  // every shard the Lambdas write.
  const dueShards = Number(env["CREDBROKER_DUE_SHARDS"] ?? "8");
  if (!Number.isInteger(dueShards) || dueShards < 1 || dueShards > 64)
    throw new CliError("CREDBROKER_DUE_SHARDS must be a whole number from 1 to 64");
  return new DynamoGrantStore({
    client: dynamoClientFromEnv(env),
    tableName: tableFrom(tableFlag, env),
    dueShards,
    grantRetentionDays: retention.grantRetentionDays,
    auditRetentionDays: retention.auditRetentionDays,
  });
}
