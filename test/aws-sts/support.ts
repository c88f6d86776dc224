// A test broker with an aws-sts task whose STS and IAM clients talk to the loopback Query fixture.
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  NOW,
  type TestBroker,
} from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";

export const ROLE_ARN = "arn:aws:iam::111122223333:role/web-deployer";
export const ROLE_NAME = "web-deployer";

export const DEPLOY_TASK = {
  name: "deploy-web",
  provider: "aws-sts",
  roleArn: ROLE_ARN,
  sessionPolicy: {
    Version: "2012-10-17",
    Statement: [
      { Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-web/${claim:repository}/*" },
    ],
  },
  maxDurationSeconds: 3600,
  sensitivity: "high",
};

export const STS_POLICIES = `${BASE_POLICIES}
@id("web-ci-deploys")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"deploy-web");
`;

export interface StsBrokerOptions {
  tasks?: Record<string, unknown>[];
  /** SDK attempts per call (the standard retry strategy); 3 like the SDK's default when absent. */
  maxAttempts?: number;
  /** Share a store (and issuer) with another broker. */
  store?: DynamoGrantStore;
  issuer?: TestIssuer;
}

export async function createStsBroker(
  aws: AwsQueryServer,
  options: StsBrokerOptions = {},
): Promise<TestBroker> {
  const issuer: TestIssuer = options.issuer ?? (await createTestIssuer());
  const config = (i: TestIssuer) => {
    const base = baseConfig(i);
    return { ...base, tasks: [...(base["tasks"] as unknown[]), ...(options.tasks ?? [DEPLOY_TASK])] };
  };
  const resolved = resolveConfig(
    config(issuer),
    [{ file: "policies/test.cedar", text: STS_POLICIES }],
    "test-config",
  );
  const clientConfig = { ...aws.clientConfig, maxAttempts: options.maxAttempts ?? 3 };
  const providers = awsProviders(resolved, {
    stsClient: (region) => new STSClient({ ...clientConfig, region }),
    iamClient: new IAMClient(clientConfig),
  });
  return createTestBroker({
    issuer,
    config,
    policies: STS_POLICIES,
    adapters: { providers },
    ...(options.store ? { store: options.store } : {}),
  });
}

export const deployRequest = (token: string, extra: Record<string, string> = {}): Record<string, string> => ({
  grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
  subject_token: token,
  subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  scope: "deploy-web",
  ...extra,
});

export interface StsRig {
  aws: AwsQueryServer;
  broker: TestBroker;
}

/** One STS/IAM fixture and one broker for a suite, reset to a clean fixture and NOW before each test. */
export function useStsRig(): StsRig {
  const rig = {} as StsRig;
  beforeAll(async () => {
    rig.aws = await startAwsQueryServer({ now: () => rig.broker.clock.now() });
    rig.broker = await createStsBroker(rig.aws);
  });
  afterAll(async () => {
    await rig.aws.close();
    await closeSharedDynamo();
  });
  beforeEach(() => {
    rig.aws.reset();
    rig.broker.clock.set(NOW);
  });
  return rig;
}

/**
 * The credbroker-revocations document listing `ids`, spelled out here rather than taken from the product, so
 * tests hold the product to the exact document the docs promise.
 */
export const revocationList = (ids: string[]) => ({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "CredbrokerRevokedGrants",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { "aws:PrincipalTag/credbroker-grant": ids } },
    },
  ],
});
