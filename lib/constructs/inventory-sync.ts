// The inventory's half of the CredentialBroker construct (CONTRACT §9): the daily sync's permissions,
// schedule and alarm. The function reads IAM and nothing else outside the broker's table: three account-
// level IAM reads, AssumeRole on the configured inventory roles, and the table items it writes.
import { Duration, Stack, Token, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Rule, type Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { InventoryConfig } from "../config/schema.ts";
import { LAMBDA_ENV } from "../runtime/lambda-env.ts";

/** The IAM reads a sync makes; the BrokerInventoryRole of a member account allows exactly these. */
export const INVENTORY_IAM_ACTIONS = [
  "iam:GenerateCredentialReport",
  "iam:GetAccountAuthorizationDetails",
  "iam:GetCredentialReport",
];

/** The Secrets Manager reads a sync makes when it counts static secrets (CONTRACT §15): metadata, never values. */
export const INVENTORY_SECRETS_ACTIONS = ["secretsmanager:GetResourcePolicy", "secretsmanager:ListSecrets"];

export const SECRETS_READ_REASON =
  "ListSecrets has no resource type (IAM accepts only Resource *), and the sync reads every secret's resource policy to find who besides the broker can read it: metadata only, never a secret's value (GetSecretValue is not granted).";

export const IAM_READ_REASON =
  "GenerateCredentialReport, GetCredentialReport and GetAccountAuthorizationDetails are account-level IAM actions with no resource type: IAM accepts only Resource * for them. They read, never write.";

export interface InventorySync {
  readonly function: NodejsFunction;
  readonly rule: Rule;
  /** A daily sync failed: the report's debt section is not being refreshed. */
  readonly alarm: Alarm;
}

export function addInventorySync(
  scope: Construct,
  fn: NodejsFunction,
  o: {
    inventory: InventoryConfig;
    tableArn: string;
    indexArns: string[];
    /** The broker's own function roles: task roles that trust only these are not bypassable. */
    brokerRoleArns: string[];
    schedule: Schedule;
    deadLetterQueue: Queue;
    /** Whether a sync reads Secrets Manager (a secret task, or inventory.secretRegions). */
    readsSecrets?: boolean;
  },
): InventorySync {
  const allow = (sid: string, actions: string[], resources: string[]) =>
    fn.addToRolePolicy(new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources }));
  allow("ReadIam", INVENTORY_IAM_ACTIONS, ["*"]);
  Validations.of(fn.role!).acknowledge({
    id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    reason: IAM_READ_REASON,
  });
  if (o.readsSecrets) {
    allow("ListSecrets", ["secretsmanager:ListSecrets"], ["*"]);
    const stack = Stack.of(scope);
    allow(
      "ReadSecretPolicies",
      ["secretsmanager:GetResourcePolicy"],
      [`arn:${stack.partition}:secretsmanager:*:${stack.account}:secret:*`],
    );
    // cdk-nag names an unresolved partition or account by its pseudo parameter, a known one as it is.
    const shown = (v: string, pseudo: string) => (Token.isUnresolved(v) ? `<AWS::${pseudo}>` : v);
    for (const resource of [
      "*",
      `arn:${shown(stack.partition, "Partition")}:secretsmanager:*:${shown(stack.account, "AccountId")}:secret:*`,
    ])
      Validations.of(fn.role!).acknowledge({
        id: `AwsSolutions::AwsSolutions-IAM5[Resource::${resource}]`,
        reason: resource === "*" ? `${IAM_READ_REASON} ${SECRETS_READ_REASON}` : SECRETS_READ_REASON,
      });
  }
  const roles = [...new Set(o.inventory.accounts.flatMap((a) => (a.roleArn ? [a.roleArn] : [])))];
  if (roles.length > 0) allow("AssumeInventoryRoles", ["sts:AssumeRole"], roles);
  // Snapshots, reviews and first-grant dates are single items; the first grant of a replacing workload or
  // task is one short query on the workload index (gsi1) or the task key (gsi3).
  allow(
    "InventoryStore",
    ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
    [o.tableArn],
  );
  allow("FirstGrants", ["dynamodb:Query"], o.indexArns);
  fn.addEnvironment(LAMBDA_ENV.brokerPrincipals, JSON.stringify(o.brokerRoleArns));

  fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
  const rule = new Rule(scope, "InventorySchedule", {
    description: "credbroker: syncs the entitlement inventory",
    schedule: o.schedule,
    targets: [new LambdaFunction(fn, { deadLetterQueue: o.deadLetterQueue, retryAttempts: 2 })],
  });
  const alarm = new Alarm(scope, "InventorySyncAlarm", {
    alarmDescription: "credbroker inventory sync failed: the debt in the report is not being refreshed",
    metric: fn.metricErrors({ period: Duration.days(1), statistic: "Sum" }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { function: fn, rule, alarm };
}
