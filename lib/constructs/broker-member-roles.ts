// The broker's two roles in every member account of an organisation (CONTRACT §16), deployed by one
// service-managed CloudFormation StackSet with auto-deployment on, so an account that joins the
// organisation (or one of the named OUs) gets them without anyone listing it:
//   - the inventory read role (`inventory.organization.memberRoleName`): the three IAM reads of a sync,
//     trusted only by the broker's inventory function roles, for the session the sync names;
//   - the revocation writer role (a task's `revocationRoleArn`): writes the inline policies of the named
//     task roles of that account and nothing else, trusted only by the broker's sweep and revoke roles.
// The StackSet is created in the management or delegated-administrator account; IAM is global, so its
// instances are deployed to one region.
import { Stack, Token } from "aws-cdk-lib";
import { CfnStackSet } from "aws-cdk-lib/aws-cloudformation";
import { Construct } from "constructs";
import { INVENTORY_IAM_ACTIONS } from "./inventory-sync.ts";

export const MEMBER_INVENTORY_ROLE_NAME = "credbroker-inventory";
export const MEMBER_REVOCATION_WRITER_NAME = "credbroker-revocation-writer";

export interface BrokerMemberRolesProps {
  /** The broker's inventory function roles (stack output InventoryRoleArn of each region's stack). */
  readonly brokerInventoryRoleArns: readonly string[];
  /** The broker's sweep and revoke roles (stack outputs SweepRoleArn, RevokeRoleArn of each region). */
  readonly revokerRoleArns: readonly string[];
  /**
   * The OUs whose accounts get the roles: the organisation root's id (`r-…`) for every account.
   */
  readonly organizationalUnitIds: readonly string[];
  /**
   * Names of the task roles (in every member account) whose revocation policy the writer may write; a
   * trailing `*` matches a prefix (`deploy-*`). A bare `*` is refused: it would let the broker write any
   * role's inline policies.
   */
  readonly taskRoleNames: readonly string[];
  /** @default "credbroker-inventory" — give the same as inventory.organization.memberRoleName */
  readonly inventoryRoleName?: string;
  /** @default "credbroker-revocation-writer" */
  readonly revocationWriterRoleName?: string;
  /**
   * The region the instances are deployed to (IAM roles are global: one is enough).
   * @default - this stack's region
   */
  readonly region?: string;
  /**
   * SELF in the management account, DELEGATED_ADMIN in a delegated administrator for StackSets.
   * @default "SELF"
   */
  readonly callAs?: "SELF" | "DELEGATED_ADMIN";
  /** @default "credbroker-member-roles" */
  readonly stackSetName?: string;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const TASK_ROLE_NAME = /^[\w+=,.@-]{1,63}\*?$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;

export class BrokerMemberRoles extends Construct {
  public readonly stackSet: CfnStackSet;
  /** The template every member account receives (for review and tests). */
  public readonly memberTemplate: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: BrokerMemberRolesProps) {
    super(scope, id);
    const refuse = (message: string) => {
      throw new TypeError(`BrokerMemberRoles: ${message}`);
    };
    if (props.brokerInventoryRoleArns.length === 0) refuse("brokerInventoryRoleArns is empty");
    if (props.revokerRoleArns.length === 0) refuse("revokerRoleArns must name the sweep and revoke roles");
    for (const arn of [...props.brokerInventoryRoleArns, ...props.revokerRoleArns])
      if (!Token.isUnresolved(arn) && !ROLE_ARN.test(arn)) refuse(`${arn} is not an IAM role ARN`);
    if (props.organizationalUnitIds.length === 0)
      refuse("organizationalUnitIds is empty: give the root id (r-…) for every account");
    for (const ou of props.organizationalUnitIds)
      if (!/^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/.test(ou))
        refuse(`${ou} is neither a root id (r-…) nor an OU id (ou-…)`);
    if (props.taskRoleNames.length === 0) refuse("taskRoleNames is empty: the writer would write nothing");
    for (const name of props.taskRoleNames)
      if (!TASK_ROLE_NAME.test(name))
        refuse(`taskRoleNames: ${name} is not a role name (or a prefix ending in *)`);
    const inventoryRoleName = props.inventoryRoleName ?? MEMBER_INVENTORY_ROLE_NAME;
    const writerName = props.revocationWriterRoleName ?? MEMBER_REVOCATION_WRITER_NAME;
    for (const name of [inventoryRoleName, writerName])
      if (!ROLE_NAME.test(name)) refuse(`${name} is not an IAM role name`);

    const trust = (arns: readonly string[], sessionName: string) => ({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: [...arns] },
          Action: "sts:AssumeRole",
          // The broker names these sessions; any other session did not come from it.
          Condition: { StringEquals: { "sts:RoleSessionName": sessionName } },
        },
      ],
    });
    this.memberTemplate = {
      AWSTemplateFormatVersion: "2010-09-09",
      Description: "credbroker: the broker's inventory read role and revocation writer role",
      Resources: {
        InventoryRole: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: inventoryRoleName,
            Description: "credbroker inventory: reads IAM users, roles, policies and the credential report",
            MaxSessionDuration: 3600,
            AssumeRolePolicyDocument: trust(props.brokerInventoryRoleArns, "credbroker-inventory"),
            Policies: [
              {
                PolicyName: "credbroker-inventory-read",
                PolicyDocument: {
                  Version: "2012-10-17",
                  Statement: [
                    // Account-level IAM reads with no resource type: IAM accepts only Resource *.
                    { Sid: "ReadIam", Effect: "Allow", Action: INVENTORY_IAM_ACTIONS, Resource: "*" },
                  ],
                },
              },
            ],
          },
        },
        RevocationWriter: {
          Type: "AWS::IAM::Role",
          Properties: {
            RoleName: writerName,
            Description: "credbroker: writes the credbroker-revocations inline policy of the task roles",
            MaxSessionDuration: 3600,
            AssumeRolePolicyDocument: trust(props.revokerRoleArns, "credbroker-revocations"),
            Policies: [
              {
                PolicyName: "credbroker-revocation-writer",
                PolicyDocument: {
                  Version: "2012-10-17",
                  Statement: [
                    {
                      Sid: "WriteRevocations",
                      Effect: "Allow",
                      // IAM has no condition key for the inline policy's name: scoped to the task roles.
                      Action: ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
                      Resource: props.taskRoleNames.map((name) => ({
                        "Fn::Sub": `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:role/${name}`,
                      })),
                    },
                  ],
                },
              },
            ],
          },
        },
      },
      Outputs: {
        InventoryRoleArn: { Value: { "Fn::GetAtt": ["InventoryRole", "Arn"] } },
        RevocationWriterArn: { Value: { "Fn::GetAtt": ["RevocationWriter", "Arn"] } },
      },
    };

    this.stackSet = new CfnStackSet(this, "StackSet", {
      stackSetName: props.stackSetName ?? "credbroker-member-roles",
      description: "credbroker: the broker's roles in every member account",
      permissionModel: "SERVICE_MANAGED",
      // Accounts that join the OUs get the roles; accounts that leave lose them.
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      capabilities: ["CAPABILITY_NAMED_IAM"],
      callAs: props.callAs ?? "SELF",
      managedExecution: { Active: true },
      operationPreferences: {
        failureTolerancePercentage: 10,
        maxConcurrentPercentage: 25,
        regionConcurrencyType: "PARALLEL",
      },
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...props.organizationalUnitIds] },
          regions: [props.region ?? Stack.of(this).region],
        },
      ],
      templateBody: Stack.of(this).toJsonString(this.memberTemplate),
    });
  }
}
