// What admin commands that decide (sweep, signals) need: the config from --config or CREDBROKER_CONFIG,
// the table from --table or CREDBROKER_TABLE, and the AWS providers so aws-sts revocations reach IAM.
// No signer: these commands never mint or verify a token.
import { loadConfigFile } from "../config/load.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { createWorkloadMatcher } from "../core/identity/workloads.ts";
import type { Logger } from "../core/logger.ts";
import { createAuthorizer } from "../core/policy/authorizer.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import type { GrantStore } from "../core/store.ts";
import { awsProviders } from "../runtime/aws-providers.ts";
import { configPathFrom, storeFromEnv } from "./env.ts";

export function decidingDeps(
  resolved: ResolvedConfig,
  adapters: { store: GrantStore; log: Logger; clock?: Clock; providers?: ReevaluateDeps["providers"] },
): ReevaluateDeps {
  const { config } = resolved;
  return {
    config,
    configVersion: resolved.version,
    tasks: new Map(config.tasks.map((t) => [t.name, t])),
    policies: resolved.policies,
    workloads: createWorkloadMatcher(config.workloads),
    authorizer: createAuthorizer(resolved.policies),
    store: adapters.store,
    providers: adapters.providers ?? awsProviders(resolved),
    clock: adapters.clock ?? systemClock,
    log: adapters.log,
  };
}

export async function adminDecidingDeps(
  flags: { config?: string | undefined; table?: string | undefined },
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<ReevaluateDeps> {
  const resolved = await loadConfigFile(configPathFrom(flags.config, env));
  const store = storeFromEnv(flags.table, env);
  return decidingDeps(resolved, { store, log });
}
