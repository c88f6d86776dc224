// What admin commands that decide (sweep, signals) need: the config from --config or CREDBROKER_CONFIG,
// the table from --table or CREDBROKER_TABLE, and the AWS providers so aws-sts revocations reach IAM.
// No signer: these commands never mint or verify a token.
import { dirname } from "node:path";
import { loadConfigFile } from "../config/load.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import type { Provider } from "../core/grant.ts";
import { type Logger, silentLogger } from "../core/logger.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import type { GrantStore } from "../core/store.ts";
import { awsProviders } from "../runtime/aws-providers.ts";
import { buildDecidingDeps } from "../runtime/broker-deps.ts";
import { githubProvider, sealOnlyVault } from "../runtime/github-provider.ts";
import { postgresProviders } from "../runtime/postgres-providers.ts";
import { secretProvider } from "../runtime/secret-provider.ts";
import { configPathFrom, storeFromEnv } from "./env.ts";
import { CliError } from "./errors.ts";

export async function adminDecidingDeps(
  flags: { config?: string | undefined; table?: string | undefined },
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<ReevaluateDeps> {
  const configPath = configPathFrom(flags.config, env);
  const resolved = await loadConfigFile(configPath);
  // The config's retention, as the deployed functions apply it: what this command ends or records lasts as long.
  const store = storeFromEnv(flags.table, env, resolved.config);
  return buildDecidingDeps(resolved, {
    store,
    log,
    providers: adminProviders(resolved, configPath, store, log),
  });
}

/**
 * The providers of an admin command: aws-sts reaches IAM with the caller's credentials; github may not
 * decrypt tokens (only the revoke and sweep functions may), so a github grant it ends stays
 * revocationPending and the sweep deletes its token; postgres drops roles with the config's admin login.
 */
export function adminProviders(
  resolved: ResolvedConfig,
  configPath: string,
  store: GrantStore,
  log: Logger = silentLogger,
): Partial<Record<Provider, CredentialProvider>> {
  return {
    ...awsProviders(resolved),
    ...postgresProviders(resolved, { log }),
    github: githubProvider(resolved, {
      store,
      log,
      configDir: dirname(configPath),
      vault: sealOnlyVault("admin commands may not decrypt GitHub tokens; the sweep deletes them"),
    }),
    // Rotations start with the caller's credentials; without RotateSecret rights they stay for the sweep.
    secret: secretProvider({ store, log }),
  };
}

/**
 * Refuses (exit 2) to re-decide grants under a config other than the one the broker last applied, unless
 * forced. The sweep takes any other version for a new config: a stale copy on an operator's disk would
 * revoke grants the deployed broker allowed, and the deployed sweep would then start a pass of its own.
 * With no sweep state yet there is nothing to contradict.
 */
export async function refuseUnappliedConfig(
  deps: Pick<ReevaluateDeps, "store" | "configVersion">,
  force: boolean,
): Promise<void> {
  if (force) return;
  const state = await deps.store.getSweepState();
  const applied = state?.pass?.configVersion ?? state?.configVersion;
  if (applied === undefined || applied === deps.configVersion) return;
  throw new CliError(
    `this config is version ${deps.configVersion}, but the broker last applied version ${applied}: ` +
      `re-deciding grants under this config would revoke grants the deployed broker allowed. ` +
      "Use the deployed config, or pass --force to re-decide under this one anyway",
    2,
  );
}
