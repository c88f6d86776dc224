// The fixture itself: the real SDK clients parse its answers and errors as they parse AWS's.
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsQueryServer, queryList, startAwsQueryServer } from "../fixtures/aws-query-server.ts";

const NOW = Date.parse("2026-11-30T10:00:00Z");
let aws: AwsQueryServer;
let sts: STSClient;
let iam: IAMClient;

beforeAll(async () => {
  aws = await startAwsQueryServer({ now: () => NOW });
  sts = new STSClient({ ...aws.clientConfig, maxAttempts: 1 });
  iam = new IAMClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterAll(async () => {
  sts.destroy();
  iam.destroy();
  await aws.close();
});
beforeEach(() => aws.reset());

describe("aws query fixture", () => {
  it("answers AssumeRole with credentials the SDK parses and records the query parameters", async () => {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: "arn:aws:iam::111122223333:role/web-deployer",
        RoleSessionName: "cb-x1",
        DurationSeconds: 900,
        Tags: [{ Key: "a", Value: "b" }],
        TransitiveTagKeys: ["a"],
        PolicyArns: [{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }],
      }),
    );
    expect(out.Credentials?.AccessKeyId).toMatch(/^ASIA/);
    expect(out.Credentials?.Expiration?.toISOString()).toBe("2026-11-30T10:15:00.000Z");
    const [call] = aws.callsTo("AssumeRole");
    expect(call?.params["RoleSessionName"]).toBe("cb-x1");
    expect(queryList(call!.params, "Tags")).toEqual([{ Key: "a", Value: "b" }]);
    expect(queryList(call!.params, "TransitiveTagKeys")).toEqual(["a"]);
    expect(queryList(call!.params, "PolicyArns")).toEqual([
      { arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" },
    ]);
  });

  it("returns injected errors as AWS error bodies the SDK names by code", async () => {
    aws.failNext("AssumeRole", { code: "AccessDenied", status: 403 });
    const err = await sts
      .send(new AssumeRoleCommand({ RoleArn: "arn:aws:iam::111122223333:role/r", RoleSessionName: "cb-x" }))
      .catch((e: Error) => e);
    expect((err as Error).name).toBe("AccessDenied");
  });

  it("stores, returns URL-decoded by the SDK, and deletes a role policy", async () => {
    const doc = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Deny", Action: "*", Resource: "*" }],
    });
    await iam.send(new PutRolePolicyCommand({ RoleName: "r", PolicyName: "p", PolicyDocument: doc }));
    const got = await iam.send(new GetRolePolicyCommand({ RoleName: "r", PolicyName: "p" }));
    expect(decodeURIComponent(got.PolicyDocument ?? "")).toBe(doc);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: "r", PolicyName: "p" }));
    const missing = await iam
      .send(new GetRolePolicyCommand({ RoleName: "r", PolicyName: "p" }))
      .catch((e: Error) => e);
    expect((missing as Error).name).toBe("NoSuchEntityException");
  });
});
