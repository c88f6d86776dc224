// The providers that reach AWS (aws-sts), built from SDK clients once per process. Endpoints come from the
// SDK's own environment (AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_IAM), so `credbroker dev` and tests can
// point them at the loopback fixture; a loopback endpoint without AWS credentials gets dummy ones.
import { IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { assumedRoleCredentials } from "../aws/assumed-role-credentials.ts";
import { IamRevocationWriter } from "../aws/iam-revocations.ts";
import { localCredentials } from "../aws/local-endpoint.ts";
import { createStsRoleAssumer } from "../aws/sts-role-assumer.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import type { AwsStsTaskConfig } from "../config/schema.ts";
import { DependencyUnavailable } from "../core/errors.ts";
import type { Provider } from "../core/grant.ts";
import { createAwsStsProvider } from "../core/providers/aws-sts/aws-sts-provider.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";

export interface AwsProviderOptions {
  /** Region for STS clients of tasks without `region`; else AWS_REGION, AWS_DEFAULT_REGION, then us-east-1. */
  region?: string;
  /** The environment to read; process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Prebuilt clients (tests); built from the environment when absent. */
  stsClient?: (region: string) => STSClient;
  iamClient?: IAMClient;
  /** Prebuilt clients for cross-account revocation writers (tests), by writer role ARN. */
  iamClientFor?: (writerRoleArn: string) => IAMClient;
}

// Without these an SDK call may wait forever on a dead connection; a Lambda must answer well within 29 s.
// Without throwOnRequestTimeout the SDK (smithy node-http-handler 4.x) only warns when requestTimeout passes.
const REQUEST_HANDLER = { connectionTimeout: 3_000, requestTimeout: 8_000, throwOnRequestTimeout: true };

/** IAM is global: sign for the partition's home region of the roles in the config. */
function iamRegion(tasks: AwsStsTaskConfig[]): string {
  const partition = tasks[0]?.roleArn.split(":")[1];
  if (partition === "aws-cn") return "cn-north-1";
  if (partition === "aws-us-gov") return "us-gov-west-1";
  return "us-east-1";
}

export function awsProviders(
  resolved: ResolvedConfig,
  options: AwsProviderOptions = {},
): Partial<Record<Provider, CredentialProvider>> {
  // Built even without aws-sts tasks: grants recorded under an earlier config still need revoking and pruning.
  const tasks = resolved.config.tasks.filter((t): t is AwsStsTaskConfig => t.provider === "aws-sts");
  const env = options.env ?? process.env;
  const defaultRegion = options.region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1";

  const stsClients = new Map<string, STSClient>();
  const stsFor = (region: string | undefined): STSClient => {
    const r = region ?? defaultRegion;
    let client = stsClients.get(r);
    if (!client) {
      client =
        options.stsClient?.(r) ??
        new STSClient({
          region: r,
          requestHandler: REQUEST_HANDLER,
          ...localCredentials(env["AWS_ENDPOINT_URL_STS"] ?? env["AWS_ENDPOINT_URL"], env),
        });
      stsClients.set(r, client);
    }
    return client;
  };
  const iam =
    options.iamClient ??
    new IAMClient({
      region: iamRegion(tasks),
      requestHandler: REQUEST_HANDLER,
      ...localCredentials(env["AWS_ENDPOINT_URL_IAM"] ?? env["AWS_ENDPOINT_URL"], env),
    });

  // Task roles in another account are written through the role the task names for that (BrokerTargetRole);
  // without one the provider refuses them (ownAccount below) rather than write by name in this account.
  const writerRoles = new Map<string, string>();
  for (const t of tasks)
    if (t.revocationRoleArn && !writerRoles.has(t.roleArn)) writerRoles.set(t.roleArn, t.revocationRoleArn);
  const writerClients = new Map<string, IAMClient>();
  const clientFor = (roleArn: string): IAMClient => {
    const writer = writerRoles.get(roleArn);
    if (!writer) return iam;
    let client = writerClients.get(writer);
    if (!client) {
      client =
        options.iamClientFor?.(writer) ??
        new IAMClient({
          region: iamRegion(tasks),
          requestHandler: REQUEST_HANDLER,
          credentials: assumedRoleCredentials(stsFor(undefined), writer),
        });
      writerClients.set(writer, client);
    }
    return client;
  };

  return {
    "aws-sts": createAwsStsProvider({
      assumer: createStsRoleAssumer(stsFor),
      revocations: new IamRevocationWriter({ client: iam, clientFor }),
      tasks: new Map(tasks.map((t) => [t.name, t])),
      ownAccount: callerAccount(() => stsFor(undefined)),
    }),
  };
}

/**
 * The account of the broker's own credentials, asked of STS once per process (GetCallerIdentity needs no
 * IAM permission) and only when a revocation needs it; a failed lookup is asked again next time.
 */
function callerAccount(sts: () => STSClient): () => Promise<string> {
  let account: Promise<string> | undefined;
  const lookup = async (): Promise<string> => {
    let detail = "no Account in the answer";
    try {
      const out = await sts().send(new GetCallerIdentityCommand({}));
      if (out.Account) return out.Account;
    } catch (err) {
      detail = (err as Error).name;
    }
    account = undefined;
    throw new DependencyUnavailable("AWS STS GetCallerIdentity (the broker's own account)", detail);
  };
  return () => {
    account ??= lookup();
    return account;
  };
}
