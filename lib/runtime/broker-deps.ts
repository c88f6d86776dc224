// Assembles the core's dependencies from a resolved config and the adapters of one environment (Lambda,
// dev server, tests). Everything parsed here is parsed once per process.
import type { ResolvedConfig } from "../config/resolve.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import type { BrokerDeps } from "../core/deps.ts";
import type { Provider } from "../core/grant.ts";
import type { SubjectTokenVerifier } from "../core/identity/verifier.ts";
import { createWorkloadMatcher } from "../core/identity/workloads.ts";
import { createAccessTokenVerifier } from "../core/jwt/access-token.ts";
import { type Logger, silentLogger } from "../core/logger.ts";
import { createAuthorizer } from "../core/policy/authorizer.ts";
import { signalsSeen } from "../core/policy/speculative-decision.ts";
import { createJwtProvider } from "../core/providers/jwt-provider.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import type { Signer } from "../core/signer.ts";
import type { GrantStore } from "../core/store.ts";
import { createJoseVerifier, type JoseVerifierOptions } from "../identity/jose-verifier.ts";
import { createWebhookNotifier } from "../notify/webhook-notifier.ts";

export interface BrokerAdapters {
  store: GrantStore;
  signer: Signer;
  clock?: Clock;
  log?: Logger;
  /** Extra providers (aws-sts), keyed by provider name. */
  providers?: Partial<Record<Provider, CredentialProvider>>;
  verifier?: Partial<Pick<JoseVerifierOptions, "jwksCacheMaxAgeMs" | "jwksCooldownMs" | "fetchTimeoutMs">>;
}

/**
 * What every deciding process needs (token path, sweep, `signals`, `sweep`): config, policies, workloads,
 * the authorizer, the store and the providers, but no signer or token verifier.
 */
export function buildDecidingDeps(
  resolved: ResolvedConfig,
  adapters: Omit<BrokerAdapters, "signer" | "verifier">,
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
    providers: adapters.providers ?? {},
    clock: adapters.clock ?? systemClock,
    log: adapters.log ?? silentLogger,
  };
}

export async function buildBrokerDeps(
  resolved: ResolvedConfig,
  adapters: BrokerAdapters,
): Promise<BrokerDeps> {
  return addTokenDeps(resolved, buildDecidingDeps(resolved, adapters), adapters);
}

/**
 * Completes deciding deps with what signs and verifies tokens. Separate so that a Lambda can parse its config
 * and policies at cold start and reach KMS only once a request needs the signer.
 */
export async function addTokenDeps(
  resolved: ResolvedConfig,
  deciding: ReevaluateDeps,
  adapters: Pick<BrokerAdapters, "signer" | "verifier"> & {
    /** A subject-token verifier built (and warmed up) beforehand; one is built here otherwise. */
    subjectVerifier?: SubjectTokenVerifier;
  },
): Promise<BrokerDeps> {
  const { config } = resolved;
  const webhookUrl = config.approvals?.notify.webhookUrl;
  return {
    ...addApproverDeps(resolved, deciding, adapters),
    ...(webhookUrl ? { notifier: createWebhookNotifier({ url: webhookUrl, log: deciding.log }) } : {}),
    verifier: adapters.subjectVerifier ?? subjectVerifierFor(resolved, deciding, adapters),
    providers: { jwt: createJwtProvider(adapters.signer, config.issuerUrl), ...deciding.providers },
    signer: adapters.signer,
    accessTokens: await createAccessTokenVerifier(adapters.signer, config.issuerUrl),
    signalsSeen: signalsSeen(),
  };
}

/** The verifier of workloads' subject tokens, against every configured issuer. */
export function subjectVerifierFor(
  resolved: ResolvedConfig,
  deciding: Pick<ReevaluateDeps, "clock">,
  adapters: Pick<BrokerAdapters, "verifier"> = {},
): SubjectTokenVerifier {
  return createJoseVerifier({
    issuers: resolved.config.issuers,
    audience: resolved.config.audience,
    clock: deciding.clock,
    ...adapters.verifier,
  });
}

/** What the approver routes need: deciding deps plus a verifier of approver tokens (no signer, no KMS). */
export function addApproverDeps<T extends Pick<ReevaluateDeps, "clock">>(
  resolved: ResolvedConfig,
  deciding: T,
  adapters: Pick<BrokerAdapters, "verifier"> = {},
): T & { approverVerifier?: SubjectTokenVerifier } {
  const { config } = resolved;
  // Approver tokens are checked against the approver issuers only: a workload's token never approves.
  const approverIssuers = config.issuers.filter((i) => config.approvals?.issuers.includes(i.name));
  if (approverIssuers.length === 0) return deciding;
  return {
    ...deciding,
    approverVerifier: createJoseVerifier({
      issuers: approverIssuers,
      audience: config.audience,
      clock: deciding.clock,
      ...adapters.verifier,
    }),
  };
}
