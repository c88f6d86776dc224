// The github provider of one process, built once: an App JWT signer per githubApps entry (KMS Sign for a
// kmsKeyArn, the PEM file for `file`, read relative to the config on first use), the GitHub REST adapter,
// and the token vault the process may use (KMS on AWS, the data dir's key in dev, none in admin CLIs).
// Built even without github tasks: grants recorded under an earlier config still need their tokens ended.
import { resolve } from "node:path";
import { KMSClient } from "@aws-sdk/client-kms";
import { kmsRsaSigner } from "../aws/kms-rsa-signer.ts";
import { localCredentials } from "../aws/local-endpoint.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { DependencyUnavailable } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { createGithubProvider } from "../core/providers/github/github-provider.ts";
import type { TokenVault } from "../core/providers/github/ports.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import type { GrantStore } from "../core/store.ts";
import { pemFileSigner, type RsaSigner } from "../github/app-jwt.ts";
import { createGitHubTokens, type GitHubAppEntry } from "../github/github-tokens.ts";

export interface GithubProviderWiring {
  store: Pick<GrantStore, "update">;
  log: Logger;
  vault: TokenVault;
  /** The directory a PEM `file` is relative to: the config file's. */
  configDir: string;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** A KMS client for App keys in KMS; one from the SDK's environment (AWS_ENDPOINT_URL_KMS) by default. */
  kms?: KMSClient;
  fetch?: typeof globalThis.fetch;
  budgetMs?: number;
  requestTimeoutMs?: number;
  /** How retries wait; real time by default (tests advance a fixed clock instead). */
  sleep?: (ms: number) => Promise<void>;
}

/** A process that may not decrypt (an admin CLI): ending a grant leaves its token for the sweep. */
export const sealOnlyVault = (why: string): TokenVault => ({
  seal: async () => {
    throw new DependencyUnavailable("token vault", why);
  },
  open: async () => {
    throw new DependencyUnavailable("token vault", why);
  },
});

export function githubProvider(resolved: ResolvedConfig, wiring: GithubProviderWiring): CredentialProvider {
  const env = wiring.env ?? process.env;
  // One client per region, the key's region read from its ARN.
  const kmsClients = new Map<string, KMSClient>();
  const kmsClient = (keyArn: string): KMSClient => {
    if (wiring.kms) return wiring.kms;
    const region = keyArn.split(":")[3]!;
    let client = kmsClients.get(region);
    if (!client) {
      client = new KMSClient({
        region,
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
        ...localCredentials(env["AWS_ENDPOINT_URL_KMS"] ?? env["AWS_ENDPOINT_URL"], env),
      });
      kmsClients.set(region, client);
    }
    return client;
  };
  const apps = new Map<string, GitHubAppEntry>();
  for (const app of resolved.config.githubApps) {
    const { kmsKeyArn, file } = app.privateKey;
    // The KMS client is made on first use, so a config of PEM keys needs no AWS environment at all.
    const signer: RsaSigner = kmsKeyArn
      ? { sign: (data) => kmsRsaSigner(kmsClient(kmsKeyArn), kmsKeyArn).sign(data) }
      : pemFileSigner(resolve(wiring.configDir, file!));
    apps.set(app.name, { appId: app.appId, apiUrl: app.apiUrl, signer });
  }
  return createGithubProvider({
    tokens: createGitHubTokens({
      apps,
      clock: wiring.clock ?? systemClock,
      ...(wiring.fetch ? { fetch: wiring.fetch } : {}),
      ...(wiring.budgetMs !== undefined ? { budgetMs: wiring.budgetMs } : {}),
      ...(wiring.requestTimeoutMs !== undefined ? { requestTimeoutMs: wiring.requestTimeoutMs } : {}),
      ...(wiring.sleep ? { sleep: wiring.sleep } : {}),
    }),
    vault: wiring.vault,
    store: wiring.store,
    log: wiring.log,
  });
}
