// The grant record and its state machine (CONTRACT §6). A grant leaves each status at most once; the
// store enforces that with one conditional write per transition.

export type GrantStatus = "issuing" | "active" | "expired" | "revoked" | "failed";
export type Provider = "aws-sts" | "jwt" | "github" | "postgres" | "secret";

export const FINAL_STATUSES: readonly GrantStatus[] = ["expired", "revoked", "failed"];

/** The transitions the contract allows; anything else is refused by the store. */
export const TRANSITIONS: Record<GrantStatus, readonly GrantStatus[]> = {
  issuing: ["active", "failed"],
  active: ["expired", "revoked"],
  expired: [],
  revoked: [],
  failed: [],
};

export const isFinal = (s: GrantStatus): boolean => FINAL_STATUSES.includes(s);
export const canTransition = (from: GrantStatus, to: GrantStatus): boolean => TRANSITIONS[from].includes(to);

/** How an aws-sts revocation took effect in IAM. */
export type RevocationMode = "grant-listed" | "token-issue-time";

export interface Grant {
  grantId: string;
  workload: string;
  subject: string;
  issuer: string;
  task: string;
  provider: Provider;
  status: GrantStatus;
  /** ISO 8601, seconds precision. */
  issuedAt: string;
  expiresAt: string;
  revokedAt?: string;
  reason?: string;
  policyIds: string[];
  sourceIp: string;
  purpose: string;
  decisionId: string;
  durationSeconds: number;
  /** The config and policy version that allowed it; the sweep re-evaluates grants of older versions. */
  configVersion: string;
  /** SHA-256 of the subject token, never the token. */
  subjectTokenSha256: string;
  /**
   * The subject token's claims as Cedar tags (flattened, strings). Claims are not secrets; the token is.
   * Kept so the sweep can re-decide the grant against a changed config, signals or time (docs/lifecycle.md).
   */
  claimTags?: Record<string, string>;
  /**
   * The CI run (GitHub) or pipeline (GitLab) and the job the subject token named (CONTRACT §13), when its
   * issuer is listed under `events`: the keys the webhook that ends the task finds the grant by.
   */
  taskRun?: string;
  taskJob?: string;
  roleArn?: string;
  accessKeyId?: string;
  /** aws-sts: set once the revocation is in IAM; absent while the sweep still has to apply it. */
  revocation?: RevocationMode;
  /** aws-sts: a revocation that still has to be written to IAM (the sweep retries it). */
  revocationPending?: boolean;
  /** postgres: the databases[].name its role lives in, and the group role that inherits what it owns. */
  database?: string;
  reassignTo?: string;
  /** github: SHA-256 of the installation token, never the token. */
  tokenSha256?: string;
  /**
   * github: the token encrypted (KMS, or dev's local key) so that ending the grant can delete it; only the
   * revoke and sweep functions may decrypt it. Removed once the credential is ended.
   */
  tokenCiphertext?: string;
  /** secret: the secret it was handed (CONTRACT §15), the version it got (never the value), and whether ending it rotates the secret. */
  secretArn?: string;
  versionId?: string;
  rotateAfterUse?: boolean;
  /**
   * Set while a pending revocation waits on the outside system to finish what the broker started (a secret's
   * rotation moving AWSCURRENT on): the sweep looks again, and does not count the wait as a failure.
   */
  revocationAwaiting?: string;
}

/** The JSON shape of `grants show --json` (CONTRACT §6). */
export function grantView(g: Grant): Record<string, unknown> {
  return {
    grantId: g.grantId,
    workload: g.workload,
    subject: g.subject,
    issuer: g.issuer,
    task: g.task,
    provider: g.provider,
    status: g.status,
    issuedAt: g.issuedAt,
    expiresAt: g.expiresAt,
    ...(g.revokedAt ? { revokedAt: g.revokedAt } : {}),
    ...(g.reason ? { reason: g.reason } : {}),
    policyIds: g.policyIds,
    sourceIp: g.sourceIp,
    purpose: g.purpose,
    decisionId: g.decisionId,
    configVersion: g.configVersion,
    ...(g.accessKeyId ? { accessKeyId: g.accessKeyId } : {}),
    ...(g.revocation ? { revocation: g.revocation } : {}),
    ...(g.revocationPending ? { revocationPending: true } : {}),
    ...(g.database ? { database: g.database } : {}),
    ...(g.tokenSha256 ? { tokenSha256: g.tokenSha256 } : {}),
    ...(g.secretArn ? { secretArn: g.secretArn } : {}),
    ...(g.versionId ? { versionId: g.versionId } : {}),
    ...(g.rotateAfterUse ? { rotateAfterUse: true } : {}),
    ...(g.revocationAwaiting ? { revocationAwaiting: g.revocationAwaiting } : {}),
  };
}
