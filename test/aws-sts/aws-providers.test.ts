// Wiring of the aws-sts provider from a config: the STS client of a task's region, and grants of tasks the
// config no longer has still revoked through the role recorded on the grant.
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config/resolve.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { newId } from "../../lib/core/ids.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { baseConfig, NOW } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { DEPLOY_TASK, ROLE_ARN, ROLE_NAME } from "./support.ts";

let aws: AwsQueryServer;
beforeAll(async () => {
  aws = await startAwsQueryServer({ now: () => NOW });
});
afterAll(() => aws.close());

const resolve = async (tasks: unknown[]) => {
  const raw = baseConfig(await createTestIssuer());
  return resolveConfig(
    { ...raw, tasks: [...(raw["tasks"] as unknown[]), ...tasks] },
    [{ file: "p.cedar", text: "" }],
    "t",
  );
};

describe("awsProviders", () => {
  it("assumes the role in the task's region", async () => {
    const regions: string[] = [];
    const providers = awsProviders(await resolve([{ ...DEPLOY_TASK, region: "eu-west-1" }]), {
      region: "us-east-2",
      stsClient: (region) => {
        regions.push(region);
        return new STSClient({ ...aws.clientConfig, region });
      },
      iamClient: new IAMClient(aws.clientConfig),
    });
    const provider = providers["aws-sts"]!;
    const task = (await resolve([{ ...DEPLOY_TASK, region: "eu-west-1" }])).config.tasks[1]!;
    const grantId = newId(NOW);
    const prepared = provider.prepare({
      task,
      workload: "web-ci",
      grantId,
      claims: { repository: "acme/web" },
      durationSeconds: 900,
      nowMs: NOW,
    });
    await provider.issue(prepared, {} as Grant);
    expect(regions).toEqual(["eu-west-1"]);
  });

  it("revokes a grant of a task the config no longer has, through the role recorded on the grant", async () => {
    const providers = awsProviders(await resolve([]), { iamClient: new IAMClient(aws.clientConfig) });
    const grantId = newId(NOW);
    const mode = await providers["aws-sts"]!.revoke(
      { grantId, task: "gone", roleArn: ROLE_ARN, provider: "aws-sts" } as Grant,
      NOW,
    );
    expect(mode).toBe("grant-listed");
    expect(JSON.stringify(aws.policyDocument(ROLE_NAME))).toContain(grantId);
  });

  it("writes a cross-account task role's revocations through the writer role the task names", async () => {
    const taskRole = "arn:aws:iam::444455556666:role/partner-deployer";
    const writer = "arn:aws:iam::444455556666:role/credbroker-revocation-writer";
    aws.reset();
    const providers = awsProviders(
      await resolve([
        { ...DEPLOY_TASK, name: "partner-deploy", roleArn: taskRole, revocationRoleArn: writer },
      ]),
      {
        stsClient: (region) => new STSClient({ ...aws.clientConfig, region }),
        iamClient: new IAMClient(aws.clientConfig),
      },
    );
    // The writer client is built with the assumed role's credentials; point it at the fixture.
    process.env["AWS_ENDPOINT_URL_IAM"] = aws.url;
    try {
      const grantId = newId(NOW);
      const mode = await providers["aws-sts"]!.revoke(
        { grantId, task: "partner-deploy", roleArn: taskRole, provider: "aws-sts" } as Grant,
        NOW,
      );
      expect(mode).toBe("grant-listed");
      expect(
        aws.callsTo("AssumeRole").map((c) => [c.params["RoleArn"], c.params["RoleSessionName"]]),
      ).toEqual([[writer, "credbroker-revocations"]]);
      expect(JSON.stringify(aws.policyDocument("partner-deployer"))).toContain(grantId);
    } finally {
      delete process.env["AWS_ENDPOINT_URL_IAM"];
    }
  });
});
