// What the secret provider needs from the outside: Secrets Manager (lib/aws/secrets-manager.ts translates
// the SDK's answers and errors) and a ledger of rotations in flight, one item per secret in the broker's
// table, claimed with a conditional write so that concurrent ends of grants start one rotation.

/** The AWSCURRENT version of a secret, as GetSecretValue returned it. */
export interface SecretVersion {
  name: string;
  versionId: string;
  /** Exactly one of the two is set. */
  string?: string;
  binary?: Uint8Array;
}

export interface SecretDescription {
  name: string;
  rotationEnabled: boolean;
  /** The version carrying AWSCURRENT now. */
  currentVersionId?: string;
}

export interface SecretsManagerApi {
  getCurrent(secretArn: string): Promise<SecretVersion>;
  describe(secretArn: string): Promise<SecretDescription>;
  /** Starts the secret's rotation function; "in-progress" when Secrets Manager says one is already running. */
  rotate(secretArn: string, clientRequestToken: string): Promise<"started" | "in-progress">;
}

/** Secrets Manager could not be reached or refused the call; `detail` is the error's name, never a value. */
export class SecretsManagerUnavailable extends Error {
  constructor(
    readonly operation: string,
    readonly detail: string,
  ) {
    super(`AWS Secrets Manager ${operation} failed (${detail})`);
    this.name = "SecretsManagerUnavailable";
  }
}

/** A rotation the broker started: from which AWSCURRENT version, when, and its idempotency token. */
export interface RotationRecord {
  secretArn: string;
  fromVersionId: string;
  startedAtMs: number;
  token: string;
}

export interface RotationLedger {
  get(secretArn: string): Promise<RotationRecord | undefined>;
  /**
   * Records a rotation away from `record.fromVersionId` unless one away from that same version started at
   * or after `staleBeforeMs`; true when this caller won and must call RotateSecret. One conditional write.
   */
  claim(record: RotationRecord, staleBeforeMs: number): Promise<boolean>;
  /** Forgets a claim whose RotateSecret call failed, so the next try starts at once; only the claimer's own. */
  release(record: RotationRecord): Promise<void>;
}
