// The public client API of credbroker: what workloads import. Re-exports only.
export {
  exchangeWaitingForApproval,
  type PendingApproval,
  type WaitForApprovalOptions,
} from "./approval-wait.ts";
export {
  type ApprovalDecisionResponse,
  type ApprovalSummary,
  AWS_CREDENTIALS_TOKEN_TYPE,
  type AwsSessionCredentials,
  BrokerClient,
  type BrokerClientOptions,
  type ExchangeRequest,
  type ExchangeResponse,
  type IntrospectionResponse,
  JWT_TOKEN_TYPE,
  POSTGRES_CREDENTIALS_TOKEN_TYPE,
  type PostgresCredentials,
} from "./broker-client.ts";
export {
  type BrokerAwsCredentials,
  type BrokerCredentialProvider,
  type CredentialBrokerOptions,
  DEFAULT_REFRESH_BEFORE_EXPIRY_SECONDS,
  fromCredentialBroker,
} from "./credential-provider.ts";
export {
  type ApprovalEnd,
  ApprovalNotGranted,
  BrokerClientError,
  BrokerRequestError,
  BrokerResponseInvalid,
  BrokerUnreachable,
  type ClientErrorCode,
  TokenSourceError,
} from "./errors.ts";
export { postgresEnvironment } from "./postgres-env.ts";
export {
  fromGitHubActions,
  fromTokenEnv,
  fromTokenFile,
  type GitHubActionsTokenOptions,
  type TokenProvider,
} from "./token-sources.ts";
