// The Lambda environment, read once per cold start by typed readers. The construct sets these variables;
// a missing one is a deployment bug, so it fails the cold start rather than a request.
export interface LambdaEnv {
  tableName: string;
  /** KMS key id or ARN of the jwt signing key; absent for the sweep, which signs nothing. */
  signingKeyId?: string;
  /** Path of the bundled config (config + policy texts as JSON), relative to the function's code. */
  configBundlePath: string;
  dueShards: number;
  /** KMS key that keeps GitHub tokens as ciphertext (Encrypt for /token, Decrypt for revoke and sweep). */
  tokenKeyArn?: string;
}

export const LAMBDA_ENV = {
  table: "CREDBROKER_TABLE",
  signingKey: "CREDBROKER_SIGNING_KEY_ID",
  configBundle: "CREDBROKER_CONFIG_BUNDLE",
  dueShards: "CREDBROKER_DUE_SHARDS",
  /** The inventory function: the broker's own role ARNs (a JSON array) that task roles may trust. */
  brokerPrincipals: "CREDBROKER_BROKER_PRINCIPALS",
  tokenKey: "CREDBROKER_TOKEN_KEY_ARN",
} as const;

/** The broker's own principals the construct passes to the inventory function; none when unset. */
export function readBrokerPrincipals(env: NodeJS.ProcessEnv): string[] {
  const raw = env[LAMBDA_ENV.brokerPrincipals];
  if (!raw) return [];
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === "string"))
    throw new Error(`${LAMBDA_ENV.brokerPrincipals} must be a JSON array of ARNs`);
  return parsed;
}

export const CONFIG_BUNDLE_FILE = "credbroker.config.json";

/** The due index's shard count; the Lambdas and a sweep by hand must agree on it to read every shard. */
export function readDueShards(env: NodeJS.ProcessEnv): number {
  const dueShards = Number(env[LAMBDA_ENV.dueShards] ?? "8");
  if (!Number.isInteger(dueShards) || dueShards < 1 || dueShards > 64)
    throw new Error(`${LAMBDA_ENV.dueShards} must be a whole number from 1 to 64`);
  return dueShards;
}

export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`environment variable ${name} is not set`);
    return v;
  };
  const dueShards = readDueShards(env);
  const signingKeyId = env[LAMBDA_ENV.signingKey];
  const tokenKeyArn = env[LAMBDA_ENV.tokenKey];
  return {
    ...(tokenKeyArn ? { tokenKeyArn } : {}),
    tableName: need(LAMBDA_ENV.table),
    ...(signingKeyId ? { signingKeyId } : {}),
    configBundlePath: env[LAMBDA_ENV.configBundle] ?? CONFIG_BUNDLE_FILE,
    dueShards,
  };
}

/** The signing key id, for the functions that sign or verify broker tokens. */
export function requireSigningKey(env: LambdaEnv): string {
  if (!env.signingKeyId) throw new Error(`environment variable ${LAMBDA_ENV.signingKey} is not set`);
  return env.signingKeyId;
}
