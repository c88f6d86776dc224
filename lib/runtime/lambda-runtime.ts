// Builds the broker once per Lambda cold start: config and policies from the bundled JSON, DynamoDB, KMS
// signer and the AWS providers. Handlers in lambdas/ only pick the function they serve.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { createKmsSigner } from "../aws/kms-signer.ts";
import { type ResolvedConfig, resolveConfig } from "../config/resolve.ts";
import type { BrokerDeps } from "../core/deps.ts";
import { jsonLogger } from "../core/logger.ts";
import { awsProviders } from "./aws-providers.ts";
import { buildBrokerDeps } from "./broker-deps.ts";
import { readLambdaEnv } from "./lambda-env.ts";

let cached: Promise<BrokerDeps> | undefined;

export function loadBundledConfig(path: string): ResolvedConfig {
  const root = process.env["LAMBDA_TASK_ROOT"] ?? process.cwd();
  const bundle = JSON.parse(readFileSync(join(root, path), "utf8")) as { config: unknown; policyFiles: { file: string; text: string }[] };
  return resolveConfig(bundle.config, bundle.policyFiles, path);
}

export function lambdaDeps(): Promise<BrokerDeps> {
  cached ??= (async () => {
    const env = readLambdaEnv();
    const resolved = loadBundledConfig(env.configBundlePath);
    const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });
    const store = new DynamoGrantStore({
      client: new DynamoDBClient({}),
      tableName: env.tableName,
      dueShards: env.dueShards,
      grantRetentionDays: resolved.config.grantRetentionDays,
      auditRetentionDays: resolved.config.auditRetentionDays,
    });
    const signer = await createKmsSigner(new KMSClient({}), env.signingKeyId);
    return buildBrokerDeps(resolved, { store, signer, log, providers: awsProviders(resolved) });
  })();
  return cached;
}
