// The read-only role a member account gives the broker's inventory function (CONTRACT §9): it trusts
// only that function's role and allows only the three IAM reads a sync makes. The broker config names it
// as the account's `inventory.accounts[].roleArn`.
import { Duration, Validations } from "aws-cdk-lib";
import { ArnPrincipal, Effect, PolicyDocument, PolicyStatement, Role } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import {
  IAM_READ_REASON,
  INVENTORY_IAM_ACTIONS,
  INVENTORY_SECRETS_ACTIONS,
  SECRETS_READ_REASON,
} from "./inventory-sync.ts";

export interface BrokerInventoryRoleProps {
  /** The broker's inventory function role (stack output InventoryRoleArn): the only principal it trusts. */
  readonly brokerInventoryRoleArn: string;
  /**
   * The role name; the broker config's `inventory.accounts[].roleArn` must name it.
   * @default "credbroker-inventory"
   */
  readonly roleName?: string;
  /**
   * Also allow the Secrets Manager metadata reads (ListSecrets, GetResourcePolicy; never a value) the sync
   * makes when it counts static secrets (CONTRACT §15): give it when the broker config has secret tasks
   * in this account or names `inventory.secretRegions`.
   * @default false
   */
  readonly readSecrets?: boolean;
}

export class BrokerInventoryRole extends Construct {
  public readonly role: Role;

  constructor(scope: Construct, id: string, props: BrokerInventoryRoleProps) {
    super(scope, id);
    this.role = new Role(this, "Role", {
      // The broker names its session credbroker-inventory; any other session did not come from the sync.
      assumedBy: new ArnPrincipal(props.brokerInventoryRoleArn).withConditions({
        StringEquals: { "sts:RoleSessionName": "credbroker-inventory" },
      }),
      roleName: props.roleName ?? "credbroker-inventory",
      maxSessionDuration: Duration.hours(1),
      description: "credbroker inventory: reads IAM users, roles, policies and the credential report",
      inlinePolicies: {
        "credbroker-inventory-read": new PolicyDocument({
          statements: [
            new PolicyStatement({
              sid: "ReadIam",
              effect: Effect.ALLOW,
              actions: INVENTORY_IAM_ACTIONS,
              resources: ["*"],
            }),
            ...(props.readSecrets
              ? [
                  new PolicyStatement({
                    sid: "ReadSecretsMetadata",
                    effect: Effect.ALLOW,
                    actions: INVENTORY_SECRETS_ACTIONS,
                    resources: ["*"],
                  }),
                ]
              : []),
          ],
        }),
      },
    });
    Validations.of(this.role).acknowledge({
      id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
      reason: props.readSecrets ? `${IAM_READ_REASON} ${SECRETS_READ_REASON}` : IAM_READ_REASON,
    });
  }
}
