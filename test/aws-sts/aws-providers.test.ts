// Wiring of the aws-sts provider from a config: the STS client of a task's region, grants of tasks the
// config no longer has still revoked through the role recorded on the grant, and revocations for a role in
// another account written only through the writer role its task names.
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveConfig } from "../../lib/config/resolve.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { newId } from "../../lib/core/ids.ts";
import type { AwsStsProvider } from "../../lib/core/providers/aws-sts/aws-sts-provider.ts";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { activeGrant } from "../lifecycle/support.ts";
import { baseConfig, closeSharedDynamo, NOW } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { createStsBroker, DEPLOY_TASK, ROLE_ARN, ROLE_NAME, revocationList } from "./support.ts";

let aws: AwsQueryServer;
beforeAll(async () => {
  // Real time: the writer role's assumed credentials are refreshed by the SDK against the real clock.
  aws = await startAwsQueryServer();
});
afterAll(async () => {
  await aws.close();
  await closeSharedDynamo();
});
beforeEach(() => aws.reset());

const clients = () => ({
  stsClient: (region: string) => new STSClient({ ...aws.clientConfig, region }),
  iamClient: new IAMClient(aws.clientConfig),
});
/** A task whose role is in another account than the broker's (the fixture answers 111122223333). */
const PARTNER_ROLE = "arn:aws:iam::444455556666:role/partner-deployer";
const PARTNER_TASK = { ...DEPLOY_TASK, name: "partner-deploy", roleArn: PARTNER_ROLE };

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
    const providers = awsProviders(await resolve([]), clients());
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

  it("refuses a cross-account role without a writer role instead of denying a same-named role here", async () => {
    // A role of the same name in the broker's own account: writing by name would deny it, not the task's.
    aws.rolePolicies.set("partner-deployer", new Map());
    const provider = awsProviders(await resolve([PARTNER_TASK]), clients())["aws-sts"] as AwsStsProvider;
    const grant = { grantId: newId(NOW), task: "partner-deploy", roleArn: PARTNER_ROLE, provider: "aws-sts" };
    for (let i = 0; i < 2; i++)
      await expect(provider.revoke(grant as Grant, NOW)).rejects.toMatchObject({
        name: "RevocationRoleOutOfReach",
        code: "dependency_unavailable",
        message: expect.stringContaining("revocationRoleArn"),
      });
    expect(aws.callsTo("PutRolePolicy")).toEqual([]);
    expect(aws.callsTo("GetRolePolicy")).toEqual([]);
    expect(aws.rolePolicies.get("partner-deployer")?.has("credbroker-revocations")).toBe(false);
    // The broker's account is learned once per process, and roles in it are still written.
    await provider.revoke({ ...grant, roleArn: ROLE_ARN, task: "deploy-web" } as Grant, NOW);
    expect(aws.callsTo("GetCallerIdentity")).toHaveLength(1);
    expect(JSON.stringify(aws.policyDocument(ROLE_NAME))).toContain(grant.grantId);
  });

  it("leaves such a revocation pending, logs an error, and the sweep counts each failed retry", async () => {
    const broker = await createStsBroker(aws, { tasks: [DEPLOY_TASK, PARTNER_TASK] });
    const grant = activeGrant({
      provider: "aws-sts",
      task: "partner-deploy",
      roleArn: PARTNER_ROLE,
      lifetimeSeconds: 900,
      configVersion: broker.resolved.version,
    });
    await broker.store.createGrant(grant, Date.parse(grant.expiresAt));
    const revoked = await revokeGrant(broker.deps, grant, { reason: "incident", kind: "admin" });
    expect(revoked).toMatchObject({ status: "revoked", revocationPending: true });
    expect(revoked?.revocation).toBeUndefined();
    expect(broker.logs.map((l) => JSON.parse(l))).toContainEqual(
      expect.objectContaining({ level: "error", grantId: grant.grantId, roleArn: PARTNER_ROLE }),
    );

    broker.clock.advance(1_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 1, revoked: 0, errors: 1 });
    expect(await broker.store.getGrant(grant.grantId)).toMatchObject({ revocationPending: true });
    expect(aws.callsTo("PutRolePolicy")).toEqual([]);
  });

  it("re-applies a lost revocation as of the revocation, so a full list's fallback spares later sessions", async () => {
    const provider = awsProviders(await resolve([DEPLOY_TASK]), clients())["aws-sts"] as AwsStsProvider;
    // A list at IAM's limit that no longer holds the grant revoked at NOW; the sweep reads it back later.
    const listed = (ids: string[]) => JSON.stringify(revocationList(ids));
    const full: string[] = [];
    while (listed([...full, "x".repeat(26)]).length <= 10_240) full.push(newId(NOW - 60_000));
    aws.rolePolicies.set(ROLE_NAME, new Map([["credbroker-revocations", listed(full)]]));
    const grant = {
      grantId: newId(NOW - 60_000),
      task: "deploy-web",
      roleArn: ROLE_ARN,
      provider: "aws-sts",
      revokedAt: "2026-11-30T10:00:00Z",
    } as Grant;
    expect(await provider.recheckRevocation(grant, NOW + 90_000)).toEqual({
      mode: "token-issue-time",
      reapplied: true,
    });
    expect(JSON.stringify(aws.policyDocument(ROLE_NAME))).toContain(
      '"DateLessThan":{"aws:TokenIssueTime":"2026-11-30T10:00:01Z"}',
    );
  });
});
