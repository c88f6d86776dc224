// A task role for an aws-sts task, deployed in the account that owns the resources the task touches. It
// trusts only the broker's token function, only for sessions the broker names and tags, and lets the
// broker write the role's `credbroker-revocations` inline policy.
//
// IAM roles take no resource-based permission policy, so "who may call iam:PutRolePolicy on this role" is
// decided by the caller's identity policy in the caller's own account. In the broker's account the
// CredentialBroker construct grants that to its sweep and revoke roles. Across accounts an IAM call must be
// made by a principal of this account: `revocationWriter` is that principal, a role the broker's sweep and
// revoke roles may assume, allowed to write the inline policies of this role and nothing else.
import { Duration, Stack, Token } from "aws-cdk-lib";
import {
  ArnPrincipal,
  CompositePrincipal,
  Effect,
  PolicyDocument,
  PolicyStatement,
  Role,
} from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { accountOfArn } from "../core/providers/aws-sts/role-reach.ts";

export interface BrokerTargetRoleProps {
  /** The broker's token function role (stack output TokenRoleArn): the only principal that may assume this role. */
  readonly brokerTokenRoleArn: string;
  /** The broker roles that write revocations (stack outputs SweepRoleArn and RevokeRoleArn). */
  readonly revokerRoleArns: readonly string[];
  /**
   * The role name; the broker config's task `roleArn` must name it.
   * @default - a CloudFormation-generated name
   */
  readonly roleName?: string;
  /**
   * The longest session STS may issue; must cover the task's maxDurationSeconds.
   * @default Duration.hours(1)
   */
  readonly maxSessionDuration?: Duration;
  /**
   * The task's `externalId`, required on AssumeRole when set.
   * @default - none
   */
  readonly externalId?: string;
  /**
   * Create the revocation-writer role for a broker in another account.
   * @default - true when the broker's account (from brokerTokenRoleArn) differs from this stack's account
   */
  readonly revocationWriter?: boolean;
  readonly description?: string;
}

export class BrokerTargetRole extends Construct {
  /** The task role workloads receive sessions of. Attach the task's permissions to it. */
  public readonly role: Role;
  /** For a broker in another account: the role it assumes to write this role's revocation policy. */
  public readonly revocationWriter?: Role;

  constructor(scope: Construct, id: string, props: BrokerTargetRoleProps) {
    super(scope, id);
    if (props.revokerRoleArns.length === 0)
      throw new TypeError("revokerRoleArns must name the broker's sweep and revoke roles");
    const broker = new ArnPrincipal(props.brokerTokenRoleArn);
    this.role = new Role(this, "Role", {
      // The broker names every session cb-<grantId>; anything else did not come from the grant path.
      assumedBy: broker.withConditions({ StringLike: { "sts:RoleSessionName": "cb-*" } }),
      ...(props.roleName ? { roleName: props.roleName } : {}),
      ...(props.externalId ? { externalIds: [props.externalId] } : {}),
      maxSessionDuration: props.maxSessionDuration ?? Duration.hours(1),
      description: props.description ?? "credbroker task role: sessions are issued per grant by the broker",
    });
    const trust = this.role.assumeRolePolicy!;
    trust.addStatements(
      new PolicyStatement({
        sid: "BrokerTagsSessions",
        effect: Effect.ALLOW,
        principals: [broker],
        actions: ["sts:TagSession"],
        // Every session carries its grant id: the revocation policy denies by that tag.
        conditions: { StringLike: { "aws:RequestTag/credbroker-grant": "*" } },
      }),
      new PolicyStatement({
        sid: "BrokerSetsSourceIdentity",
        effect: Effect.ALLOW,
        principals: [broker],
        actions: ["sts:SetSourceIdentity"],
        conditions: { StringLike: { "sts:SourceIdentity": "*" } },
      }),
    );

    const brokerAccount = accountOf(props.brokerTokenRoleArn);
    const here = Stack.of(this).account;
    const crossAccount = brokerAccount !== undefined && !Token.isUnresolved(here) && brokerAccount !== here;
    if (props.revocationWriter ?? crossAccount) {
      this.revocationWriter = new Role(this, "RevocationWriter", {
        assumedBy: new CompositePrincipal(...props.revokerRoleArns.map((arn) => new ArnPrincipal(arn))),
        description: "credbroker: writes the credbroker-revocations inline policy of one task role",
        maxSessionDuration: Duration.hours(1),
        inlinePolicies: {
          "credbroker-revocation-writer": new PolicyDocument({
            statements: [
              new PolicyStatement({
                sid: "WriteRevocations",
                effect: Effect.ALLOW,
                // IAM has no condition key for the inline policy's name: scoped to this one role.
                actions: ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
                resources: [this.role.roleArn],
              }),
            ],
          }),
        },
      });
    }
  }
}

const accountOf = (arn: string): string | undefined =>
  Token.isUnresolved(arn) ? undefined : accountOfArn(arn);
