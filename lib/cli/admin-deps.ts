// What admin commands that decide (sweep, signals) need: the config from --config or CREDBROKER_CONFIG,
// the table from --table or CREDBROKER_TABLE, and the AWS providers so aws-sts revocations reach IAM.
// No signer: these commands never mint or verify a token.
import { loadConfigFile } from "../config/load.ts";
import type { Logger } from "../core/logger.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import { awsProviders } from "../runtime/aws-providers.ts";
import { buildDecidingDeps } from "../runtime/broker-deps.ts";
import { configPathFrom, storeFromEnv } from "./env.ts";

export async function adminDecidingDeps(
  flags: { config?: string | undefined; table?: string | undefined },
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<ReevaluateDeps> {
  const resolved = await loadConfigFile(configPathFrom(flags.config, env));
  const store = storeFromEnv(flags.table, env);
  return buildDecidingDeps(resolved, { store, log, providers: awsProviders(resolved) });
}
