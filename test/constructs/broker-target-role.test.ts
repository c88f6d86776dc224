import { App, Duration, Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { BrokerTargetRole, type BrokerTargetRoleProps } from "../../lib/constructs/broker-target-role.ts";

const BROKER = "111122223333";
const TOKEN_ROLE = `arn:aws:iam::${BROKER}:role/Credbroker-BrokertokenRole`;
const SWEEP_ROLE = `arn:aws:iam::${BROKER}:role/Credbroker-BrokersweepRole`;
const REVOKE_ROLE = `arn:aws:iam::${BROKER}:role/Credbroker-BrokerrevokeRole`;

function synth(account: string, props: Partial<BrokerTargetRoleProps> = {}) {
  const app = new App();
  const stack = new Stack(app, "Target", { env: { account, region: "eu-west-1" } });
  const target = new BrokerTargetRole(stack, "WebDeployer", {
    brokerTokenRoleArn: TOKEN_ROLE,
    revokerRoleArns: [SWEEP_ROLE, REVOKE_ROLE],
    roleName: "web-deployer",
    ...props,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  return { target, stack, template: Template.fromStack(stack) };
}

const trustOf = (template: Template, roleName: string) => {
  const roles = template.findResources("AWS::IAM::Role", { Properties: { RoleName: roleName } });
  return Object.values(roles)[0]!["Properties"]["AssumeRolePolicyDocument"]["Statement"] as Record<
    string,
    unknown
  >[];
};

describe("BrokerTargetRole", () => {
  it("trusts only the broker's token role, for cb-* sessions that carry a grant tag and a source identity", () => {
    const { template } = synth("444455556666");
    expect(trustOf(template, "web-deployer")).toEqual([
      {
        Action: "sts:AssumeRole",
        Effect: "Allow",
        Principal: { AWS: TOKEN_ROLE },
        Condition: { StringLike: { "sts:RoleSessionName": "cb-*" } },
      },
      {
        Sid: "BrokerTagsSessions",
        Action: "sts:TagSession",
        Effect: "Allow",
        Principal: { AWS: TOKEN_ROLE },
        Condition: { StringLike: { "aws:RequestTag/credbroker-grant": "*" } },
      },
      {
        Sid: "BrokerSetsSourceIdentity",
        Action: "sts:SetSourceIdentity",
        Effect: "Allow",
        Principal: { AWS: TOKEN_ROLE },
        Condition: { StringLike: { "sts:SourceIdentity": "*" } },
      },
    ]);
  });

  it("requires the task's external id when one is set", () => {
    const { template } = synth("444455556666", { externalId: "acme-web-42" });
    expect(trustOf(template, "web-deployer")[0]!["Condition"]).toEqual({
      StringLike: { "sts:RoleSessionName": "cb-*" },
      StringEquals: { "sts:ExternalId": "acme-web-42" },
    });
  });

  it("in another account, creates a revocation writer the broker's sweep and revoke roles assume, limited to this role", () => {
    const { target, stack, template } = synth("444455556666");
    expect(target.revocationWriter).toBeDefined();
    const writerId = stack.getLogicalId(target.revocationWriter!.node.defaultChild as never);
    const writer = template.toJSON()["Resources"][writerId]["Properties"];
    const trust = writer["AssumeRolePolicyDocument"]["Statement"] as {
      Action: string;
      Effect: string;
      Principal: { AWS: string };
    }[];
    expect(trust.map((t) => [t.Action, t.Effect, t.Principal.AWS])).toEqual([
      ["sts:AssumeRole", "Allow", SWEEP_ROLE],
      ["sts:AssumeRole", "Allow", REVOKE_ROLE],
    ]);
    expect(writer["Policies"]).toEqual([
      {
        PolicyName: "credbroker-revocation-writer",
        PolicyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Sid: "WriteRevocations",
              Effect: "Allow",
              Action: ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
              Resource: { "Fn::GetAtt": [stack.getLogicalId(target.role.node.defaultChild as never), "Arn"] },
            },
          ],
        },
      },
    ]);
  });

  it("in the broker's own account, needs no writer: the broker's identity policies already cover the role", () => {
    const { target, template } = synth(BROKER);
    expect(target.revocationWriter).toBeUndefined();
    template.resourceCountIs("AWS::IAM::Role", 1);
  });

  it("defaults to one-hour sessions and takes a longer maximum for long tasks", () => {
    synth("444455556666").template.hasResourceProperties("AWS::IAM::Role", {
      RoleName: "web-deployer",
      MaxSessionDuration: 3600,
    });
    synth("444455556666", { maxSessionDuration: Duration.hours(12) }).template.hasResourceProperties(
      "AWS::IAM::Role",
      {
        RoleName: "web-deployer",
        MaxSessionDuration: 43_200,
      },
    );
  });

  it("refuses to be built without the broker roles that revoke", () => {
    expect(() => synth("444455556666", { revokerRoleArns: [] })).toThrow(/revokerRoleArns/);
  });

  it("leaves no wildcard outside the tag and identity conditions", () => {
    const { template } = synth("444455556666");
    const json = JSON.stringify(
      template.findResources("AWS::IAM::Role", { Properties: { RoleName: Match.absent() } }),
    );
    expect(json).not.toContain('"*"');
  });
});
