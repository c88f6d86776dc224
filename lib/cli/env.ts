// What admin commands read from the environment, read once by typed readers (STYLE.md: environment read once).

import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { isLoopback, localCredentials } from "../aws/local-endpoint.ts";
import { readDueShards } from "../runtime/lambda-env.ts";
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

/** A DynamoDB client from the SDK's own environment; a loopback endpoint (dev) needs no AWS credentials. */
export function dynamoClientFromEnv(env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const endpoint = env["AWS_ENDPOINT_URL_DYNAMODB"] ?? env["AWS_ENDPOINT_URL"];
  if (isLoopback(endpoint)) {
    return new DynamoDBClient({
      endpoint,
      region: env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "local",
      ...localCredentials(endpoint, env),
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
  let dueShards: number;
  try {
    dueShards = readDueShards(env);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return new DynamoGrantStore({
    client: dynamoClientFromEnv(env),
    tableName: tableFrom(tableFlag, env),
    dueShards,
    grantRetentionDays: retention.grantRetentionDays,
    auditRetentionDays: retention.auditRetentionDays,
    clock: Date.now,
  });
}
