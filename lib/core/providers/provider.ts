import type { TaskConfig } from "../../config/schema.ts";
import type { Grant, RevocationMode } from "../grant.ts";

export interface PrepareInput {
  task: TaskConfig;
  workload: string;
  grantId: string;
  claims: Record<string, unknown>;
  durationSeconds: number;
  nowMs: number;
}

/** What a provider will ask for, rendered and checked before the grant is recorded. */
export interface PreparedCredential {
  provider: TaskConfig["provider"];
  durationSeconds: number;
  roleArn?: string;
  /** Provider-specific request (a rendered session policy, JWT claims). */
  request: unknown;
  /** Recorded on the grant, so that ending it still knows where to go if the config changes. */
  grantFields?: Partial<Pick<Grant, "database" | "reassignTo" | "secretArn" | "rotateAfterUse">>;
}

export interface IssuedCredential {
  accessToken: string;
  issuedTokenType: string;
  tokenType: "Bearer" | "N_A";
  expiresAtMs: number;
  accessKeyId?: string;
  credentials?: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string; Expiration: string };
  /**
   * Provider-specific fields of the token response (CONTRACT §8: `github`, `postgres`), merged into it as
   * they are. Never stored: they may hold the credential.
   */
  response?: Record<string, unknown>;
  /**
   * Ends the credential at once when the token path withholds it (its activation write failed), for
   * providers that can (a GitHub token is deleted); otherwise the sweep ends it with the abandoned grant.
   */
  discard?: () => Promise<void>;
}

export interface CredentialProvider {
  /** Pure: renders and checks every limit; throws a BrokerError for a request that must not proceed. */
  prepare(input: PrepareInput): PreparedCredential;
  /** Checks that the outside system may serve the task now, before any grant is recorded; throws a BrokerError. */
  ready?(prepared: PreparedCredential): Promise<void>;
  /** Makes the credential for a recorded grant; throws a BrokerError on failure. */
  issue(prepared: PreparedCredential, grant: Grant): Promise<IssuedCredential>;
  /** Makes an issued credential unusable, if the provider needs to do anything beyond the grant status. */
  revoke(grant: Grant, nowMs: number): Promise<RevocationMode | undefined>;
  /** Forgets an ended grant whose credential has expired by itself (e.g. takes its id off a revocation list). */
  prune?(grant: Grant, nowMs: number): Promise<void>;
  /**
   * Reads back a revocation applied a while ago and writes it again if it has gone (a store without
   * conditional writes, such as IAM, can lose it to a rival writer). Providers without it are not re-checked.
   */
  recheckRevocation?(grant: Grant, nowMs: number): Promise<RevocationRecheck>;
  /**
   * For a provider whose outside system only some regions reach (a PostgreSQL database with `regions`):
   * `reached` when this process can end the grant's credential, `unreached` when only processes in other
   * regions can (its pending revocation is then left to them, neither applied nor failed here). Absent, or
   * `undefined` for a grant: every process can.
   */
  regionalReach?(grant: Grant): "reached" | "unreached" | undefined;
  /** Ends credentials that no live grant owns; the sweep calls it once a run (`grantOf` reads the store). */
  sweepLeftovers?(
    grantOf: (grantId: string) => Promise<Grant | undefined>,
    nowMs: number,
  ): Promise<LeftoverSweep>;
}

/** What one bounded look for leftover credentials (those no live grant owns, e.g. after a crash) did. */
export interface LeftoverSweep {
  dropped: number;
  errors: number;
}

/** What a re-check found: how the grant is denied now, and whether its deny had gone and was written again. */
export interface RevocationRecheck {
  mode: RevocationMode;
  reapplied: boolean;
}

export const ISSUED_TOKEN_TYPES = {
  jwt: "urn:ietf:params:oauth:token-type:access_token",
  "aws-sts": "urn:credbroker:token-type:aws-credentials",
  postgres: "urn:credbroker:token-type:postgres-credentials",
  github: "urn:credbroker:token-type:github-token",
  secret: "urn:credbroker:token-type:secret",
} as const;

/**
 * Thrown by `revoke` when the provider has done its part and the outside system is finishing it (a secret's
 * rotation moving AWSCURRENT on): the revocation stays pending, the sweep looks again at `retryAtMs`, and
 * the wait is not counted as a failure.
 */
export class RevocationUnderway extends Error {
  constructor(
    readonly retryAtMs: number,
    readonly detail: string,
  ) {
    super(`revocation underway: ${detail}`);
    this.name = "RevocationUnderway";
  }
}
