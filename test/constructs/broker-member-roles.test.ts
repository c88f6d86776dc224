// BrokerMemberRoles (CONTRACT §16): one service-managed StackSet with auto-deployment, targeting the named
// OUs, whose template creates the inventory read role and the revocation writer role, each trusting only
// the broker's function roles for the sessions the broker names; cdk-nag clean; bad props refused.
import { App, Stack, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { describe, expect, it } from "vitest";
import { BrokerMemberRoles, type BrokerMemberRolesProps } from "../../lib/constructs/index.ts";
import { INVENTORY_IAM_ACTIONS } from "../../lib/constructs/inventory-sync.ts";

const BROKER = "111122223333";
const role = (region: string, fn: string) => `arn:aws:iam::${BROKER}:role/Credbroker-${region}-${fn}Role`;
const PROPS: BrokerMemberRolesProps = {
  brokerInventoryRoleArns: [role("use1", "inventoryWorker")],
  revokerRoleArns: ["use1", "use2"].flatMap((r) => [role(r, "sweep"), role(r, "revoke")]),
  organizationalUnitIds: ["ou-ab12-cdef3456"],
  taskRoleNames: ["web-deployer", "deploy-*"],
};

function synth(props: Partial<BrokerMemberRolesProps> = {}) {
  const app = new App();
  const stack = new Stack(app, "Org", { env: { account: "999988887777", region: "us-east-1" } });
  const members = new BrokerMemberRoles(stack, "MemberRoles", { ...PROPS, ...props });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  return { members, template: Template.fromStack(stack) };
}

describe("BrokerMemberRoles", () => {
  it("renders a service-managed StackSet with auto-deployment to the named OUs", () => {
    const { template } = synth();
    template.resourceCountIs("AWS::CloudFormation::StackSet", 1);
    template.hasResourceProperties("AWS::CloudFormation::StackSet", {
      PermissionModel: "SERVICE_MANAGED",
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ["CAPABILITY_NAMED_IAM"],
      CallAs: "SELF",
      StackInstancesGroup: [
        { DeploymentTargets: { OrganizationalUnitIds: ["ou-ab12-cdef3456"] }, Regions: ["us-east-1"] },
      ],
    });
  });

  it("creates the two roles in each account, each trusting only the broker's roles", () => {
    const { template } = synth();
    const set = Object.values(template.findResources("AWS::CloudFormation::StackSet"))[0]!;
    const body = JSON.parse(set["Properties"]["TemplateBody"]);
    expect(Object.keys(body.Resources)).toEqual(["InventoryRole", "RevocationWriter"]);
    const inventory = body.Resources.InventoryRole.Properties;
    expect(inventory.RoleName).toBe("credbroker-inventory");
    expect(inventory.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { AWS: PROPS.brokerInventoryRoleArns },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:RoleSessionName": "credbroker-inventory" } },
      },
    ]);
    expect(inventory.Policies[0].PolicyDocument.Statement).toEqual([
      { Sid: "ReadIam", Effect: "Allow", Action: INVENTORY_IAM_ACTIONS, Resource: "*" },
    ]);
    const writer = body.Resources.RevocationWriter.Properties;
    expect(writer.RoleName).toBe("credbroker-revocation-writer");
    expect(writer.AssumeRolePolicyDocument.Statement[0]).toMatchObject({
      Principal: { AWS: PROPS.revokerRoleArns },
      Condition: { StringEquals: { "sts:RoleSessionName": "credbroker-revocations" } },
    });
    expect(writer.Policies[0].PolicyDocument.Statement).toEqual([
      {
        Sid: "WriteRevocations",
        Effect: "Allow",
        Action: ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
        Resource: [
          { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/web-deployer" },
          { "Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/deploy-*" },
        ],
      },
    ]);
  });

  it.each([
    [{ taskRoleNames: ["*"] }, "taskRoleNames: * is not a role name (or a prefix ending in *)"],
    [{ taskRoleNames: [] }, "taskRoleNames is empty: the writer would write nothing"],
    [{ organizationalUnitIds: ["o-abc"] }, "o-abc is neither a root id (r-…) nor an OU id (ou-…)"],
    [{ revokerRoleArns: [] }, "revokerRoleArns must name the sweep and revoke roles"],
    [{ brokerInventoryRoleArns: ["arn:aws:iam::1:user/x"] }, "arn:aws:iam::1:user/x is not an IAM role ARN"],
  ])("refuses %j", (props, message) => {
    expect(() => synth(props as Partial<BrokerMemberRolesProps>)).toThrow(`BrokerMemberRoles: ${message}`);
  });
});
