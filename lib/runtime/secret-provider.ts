// The secret provider of one process (CONTRACT §15): a Secrets Manager client per region, made on first use
// (a config without secret tasks, or dev without AWS, never needs one), and the store's rotation ledger.
// Built even without secret tasks: grants recorded under an earlier config still need their rotations.
// The endpoint comes from the environment (AWS_ENDPOINT_URL_SECRETS_MANAGER), so tests point it at a fixture.
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { secretsManagerApi } from "../aws/secrets-manager.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { Logger } from "../core/logger.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import { createSecretProvider, type SecretProviderDeps } from "../core/providers/secret/secret-provider.ts";
import type { GrantStore } from "../core/store.ts";
import { secretsManagerClients } from "./secrets-manager-clients.ts";

export interface SecretProviderWiring {
  store: Pick<GrantStore, "update" | "secretRotations">;
  log: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** A prebuilt client (tests); one per region from the environment otherwise. */
  client?: (region: string) => SecretsManagerClient;
  /** Timing of the rotation wait (tests shorten nothing: they advance a fixed clock). */
  timing?: Pick<SecretProviderDeps, "pollMs" | "staleAfterMs" | "recheckMs">;
}

export function secretProvider(wiring: SecretProviderWiring): CredentialProvider {
  const env = wiring.env ?? process.env;
  const clients = secretsManagerClients(env);
  const clientFor = (region: string): SecretsManagerClient => (wiring.client ?? clients)(region);
  return createSecretProvider({
    secrets: secretsManagerApi(clientFor),
    ledger: wiring.store.secretRotations,
    store: wiring.store,
    clock: wiring.clock ?? systemClock,
    log: wiring.log,
    ...wiring.timing,
  });
}
