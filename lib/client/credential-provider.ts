// An AWS SDK v3 credential provider backed by the broker: `new S3Client({ credentials:
// fromCredentialBroker({ url, task, tokenFile }) })`. Fetches on first use, caches, and refreshes before
// expiry the way the SDK's own memoized providers do (5 minutes early), with concurrent callers sharing one
// exchange. Structurally an `AwsCredentialIdentityProvider`, so the package needs no SDK dependency.
import { exchangeWaitingForApproval, type PendingApproval } from "./approval-wait.ts";
import { AWS_CREDENTIALS_TOKEN_TYPE, BrokerClient, type ExchangeRequest } from "./broker-client.ts";
import { BrokerResponseInvalid } from "./errors.ts";
import { fromTokenFile, type TokenProvider } from "./token-sources.ts";

/** What the SDK expects back: an `AwsCredentialIdentity` with its `expiration`. */
export interface BrokerAwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export type BrokerCredentialProvider = (options?: {
  forceRefresh?: boolean;
}) => Promise<BrokerAwsCredentials>;

export interface CredentialBrokerOptions {
  /** The broker's base URL. */
  url: string;
  /** An aws-sts task name. */
  task: string;
  /** The identity token itself, or a function returning a fresh one. */
  token?: string | TokenProvider;
  /** A file holding the identity token (read afresh on every exchange: Kubernetes rotates it). */
  tokenFile?: string;
  /** Same as a function `token`; kept for readability at call sites. */
  tokenProvider?: TokenProvider;
  /** duration_seconds to ask for; the task's maximum when absent. */
  duration?: number;
  purpose?: string;
  /**
   * Refresh this long before `expiration`. Default 300 s, the SDK's own window, so the SDK never holds
   * credentials it considers expiring while this provider still caches them.
   */
  refreshBeforeExpirySeconds?: number;
  /** Time source in ms; tests pass a fixed clock. Default `Date.now`. */
  clock?: { now(): number };
  /** A client to reuse; otherwise one is built from `url`. */
  client?: BrokerClient;
  timeoutMs?: number;
  /** For a task that needs people's approval: wait this long for it (docs/approvals.md). Default: don't. */
  waitForApprovalSeconds?: number;
  /** Told when the broker answers that approval is pending (the approval id to give the approvers). */
  onApprovalPending?: (pending: PendingApproval) => void;
}

export const DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS = 300;

export function fromCredentialBroker(options: CredentialBrokerOptions): BrokerCredentialProvider {
  const tokenProvider = pickTokenProvider(options);
  const client =
    options.client ??
    new BrokerClient({ url: options.url, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
  const now = options.clock ? () => options.clock!.now() : Date.now;
  const windowMs = (options.refreshBeforeExpirySeconds ?? DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS) * 1000;

  let current: BrokerAwsCredentials | undefined;
  let pending: Promise<BrokerAwsCredentials> | undefined;

  const fetchCredentials = async (): Promise<BrokerAwsCredentials> => {
    const request = async (): Promise<ExchangeRequest> => ({
      subjectToken: await tokenProvider(),
      task: options.task,
      requestedTokenType: AWS_CREDENTIALS_TOKEN_TYPE,
      ...(options.duration !== undefined ? { durationSeconds: options.duration } : {}),
      ...(options.purpose !== undefined ? { purpose: options.purpose } : {}),
    });
    const response =
      options.waitForApprovalSeconds === undefined
        ? await client.exchange(await request())
        : await exchangeWaitingForApproval(client, request, {
            waitSeconds: options.waitForApprovalSeconds,
            ...(options.onApprovalPending ? { onPending: options.onApprovalPending } : {}),
          });
    const c = response.credentials;
    if (!c)
      throw new BrokerResponseInvalid(
        `task ${options.task} issues a ${response.token_type} token, not AWS credentials`,
      );
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
  };

  return async (call = {}) => {
    const fresh = current && current.expiration.getTime() - now() > windowMs;
    if (fresh && !call.forceRefresh) return current!;
    // One exchange in flight at a time: a burst of SDK calls at expiry must not mint a burst of grants.
    pending ??= fetchCredentials().then(
      (credentials) => {
        current = credentials;
        pending = undefined;
        return credentials;
      },
      (err: unknown) => {
        // Fail closed and retry on the next call: never keep serving credentials past the refresh point.
        pending = undefined;
        throw err;
      },
    );
    return pending;
  };
}

function pickTokenProvider(options: CredentialBrokerOptions): TokenProvider {
  const given = [options.token, options.tokenFile, options.tokenProvider].filter((v) => v !== undefined);
  if (given.length !== 1)
    throw new TypeError("fromCredentialBroker needs exactly one of token, tokenFile, tokenProvider");
  if (!options.task) throw new TypeError("fromCredentialBroker needs a task");
  if (options.tokenFile !== undefined) return fromTokenFile(options.tokenFile);
  if (options.tokenProvider) return options.tokenProvider;
  const token = options.token!;
  return typeof token === "function" ? token : async () => token;
}
