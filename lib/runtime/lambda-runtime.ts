// Builds the broker once per Lambda cold start: config and policies from the bundled JSON, DynamoDB, the
// KMS signer and the AWS providers. Two assemblies, so that each function's role needs only what it uses:
// the request functions get a KMS signer (Sign for /token, GetPublicKey for the others); the sweep gets no
// signer at all and so needs no KMS permission.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { createKmsSigner } from "../aws/kms-signer.ts";
import type { ConfigBundle } from "../config/load.ts";
import { type ResolvedConfig, resolvePrecompiled } from "../config/resolve.ts";
import type { BrokerDeps } from "../core/deps.ts";
import { jsonLogger, type Logger } from "../core/logger.ts";
import type { GrantStore } from "../core/store.ts";
import { awsProviders } from "./aws-providers.ts";
import { buildBrokerDeps, buildDecidingDeps } from "./broker-deps.ts";
import { type LambdaEnv, readLambdaEnv, requireSigningKey } from "./lambda-env.ts";

/** The sweep's dependencies: everything the broker has except what signs or verifies tokens. */
export type SweepRuntimeDeps = Omit<BrokerDeps, "signer" | "accessTokens" | "verifier">;

export function loadBundledConfig(path: string): ResolvedConfig {
  const root = process.env["LAMBDA_TASK_ROOT"] ?? process.cwd();
  const bundle = JSON.parse(readFileSync(isAbsolute(path) ? path : join(root, path), "utf8")) as ConfigBundle;
  return resolvePrecompiled(bundle, path);
}

interface Common {
  env: LambdaEnv;
  resolved: ResolvedConfig;
  log: Logger;
  store: GrantStore;
}

function common(): Common {
  const env = readLambdaEnv();
  const resolved = loadBundledConfig(env.configBundlePath);
  const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });
  const store = new DynamoGrantStore({
    // A stalled DynamoDB must become a 503 well inside API Gateway's 30 s, not a hung invocation.
    client: new DynamoDBClient({
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    }),
    tableName: env.tableName,
    dueShards: env.dueShards,
    grantRetentionDays: resolved.config.grantRetentionDays,
    auditRetentionDays: resolved.config.auditRetentionDays,
  });
  return { env, resolved, log, store };
}

let cached: Promise<BrokerDeps> | undefined;

/** For /token, /introspect, /revoke and the metadata routes. */
export function lambdaDeps(): Promise<BrokerDeps> {
  cached ??= (async () => {
    const { env, resolved, log, store } = common();
    // Same reasoning as DynamoDB: a stalled KMS must become a 503, not a hung /token.
    const kms = new KMSClient({
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    });
    const signer = await createKmsSigner(kms, requireSigningKey(env));
    return buildBrokerDeps(resolved, { store, signer, log, providers: awsProviders(resolved) });
  })();
  return cached;
}

let cachedSweep: SweepRuntimeDeps | undefined;

/** For the scheduled sweep: no signer, so no KMS client and no KMS permission. */
export function lambdaSweepDeps(): SweepRuntimeDeps {
  if (cachedSweep) return cachedSweep;
  const { resolved, log, store } = common();
  cachedSweep = buildDecidingDeps(resolved, {
    store,
    log,
    providers: awsProviders(resolved),
  });
  return cachedSweep;
}
