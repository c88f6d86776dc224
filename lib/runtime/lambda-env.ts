// The Lambda environment, read once per cold start by typed readers.
export interface LambdaEnv {
  tableName: string;
  /** KMS key id or ARN of the jwt signing key. */
  signingKeyId: string;
  /** Path of the bundled config (config + policy texts as JSON), relative to the function's code. */
  configBundlePath: string;
  dueShards: number;
}

export function readLambdaEnv(env: NodeJS.ProcessEnv = process.env): LambdaEnv {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`environment variable ${name} is not set`);
    return v;
  };
  return {
    tableName: need("CREDBROKER_TABLE"),
    signingKeyId: need("CREDBROKER_SIGNING_KEY_ID"),
    configBundlePath: env["CREDBROKER_CONFIG_BUNDLE"] ?? "credbroker.config.json",
    dueShards: Number(env["CREDBROKER_DUE_SHARDS"] ?? "8"),
  };
}
