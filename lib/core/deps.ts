import type { BrokerConfig, TaskConfig } from "../config/schema.ts";
import type { ApprovalNotifier } from "./approvals/notify.ts";
import type { Clock } from "./clock.ts";
import type { Provider } from "./grant.ts";
import type { SubjectTokenVerifier } from "./identity/verifier.ts";
import type { WorkloadMatcher } from "./identity/workloads.ts";
import type { AccessTokenVerifier } from "./jwt/access-token.ts";
import type { Logger } from "./logger.ts";
import type { Authorizer } from "./policy/authorizer.ts";
import type { CompiledPolicies } from "./policy/policy-set.ts";
import type { SignalsSeen } from "./policy/speculative-decision.ts";
import type { CredentialProvider } from "./providers/provider.ts";
import type { Signer } from "./signer.ts";
import type { GrantStore } from "./store.ts";

/** Everything the broker's core needs, built once per cold start and passed in (STYLE.md §8). */
export interface BrokerDeps {
  config: BrokerConfig;
  /** SHA-256 over the config and policy texts; recorded on every grant. */
  configVersion: string;
  tasks: Map<string, TaskConfig>;
  policies: CompiledPolicies;
  verifier: SubjectTokenVerifier;
  workloads: WorkloadMatcher;
  authorizer: Authorizer;
  store: GrantStore;
  providers: Partial<Record<Provider, CredentialProvider>>;
  signer: Signer;
  accessTokens: AccessTokenVerifier;
  clock: Clock;
  log: Logger;
  /** Verifies approver tokens against `approvals.issuers` only (CONTRACT §10); absent without approvals. */
  approverVerifier?: SubjectTokenVerifier;
  /** Announces new approval requests (the config's webhook). */
  notifier?: ApprovalNotifier;
  /** The signals each workload had at its last read, so the token path can decide while it reads them. */
  signalsSeen?: SignalsSeen;
}
