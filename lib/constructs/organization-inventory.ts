// The organisation inventory on AWS (CONTRACT §16): the daily schedule runs the inventory function, which
// lists the organisation's accounts through `roleArn` and enqueues one SQS message per account; the worker
// syncs one account per message, at most `concurrency` at once (the event source's maximum concurrency).
// A failed account is retried by SQS and, after three receives, lands in the dead-letter queue, whose
// alarm fires; one failing account neither blocks nor hides the others.
import { Duration, Stack, Token, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Rule, type Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { INVENTORY_QUEUE_ENV } from "../aws/inventory-queue.ts";
import type { OrganizationConfig } from "../config/organization-schema.ts";
import { LAMBDA_ENV } from "../runtime/lambda-env.ts";
import { IAM_READ_REASON, INVENTORY_IAM_ACTIONS, type InventorySync } from "./inventory-sync.ts";

export interface OrganizationInventory extends InventorySync {
  /** Syncs one account per message. */
  readonly worker: NodejsFunction;
  /** One message per account of a run. */
  readonly queue: Queue;
  /** Accounts whose sync failed on every receive. */
  readonly deadLetterQueue: Queue;
  /** An account was not synced (a message reached the dead-letter queue). */
  readonly accountsNotSyncedAlarm: Alarm;
}

const WORKER_TIMEOUT = Duration.minutes(5);

export function addOrganizationInventory(
  scope: Construct,
  scheduler: NodejsFunction,
  worker: NodejsFunction,
  o: {
    organization: OrganizationConfig;
    tableArn: string;
    indexArns: string[];
    brokerRoleArns: string[];
    schedule: Schedule;
    /** Where a schedule event that could not be delivered goes (the broker's sweep DLQ). */
    scheduleDeadLetterQueue: Queue;
  },
): OrganizationInventory {
  const allow = (
    fn: NodejsFunction,
    sid: string,
    actions: string[],
    resources: string[],
    conditions?: Record<string, unknown>,
  ) =>
    fn.addToRolePolicy(
      new PolicyStatement({
        sid,
        effect: Effect.ALLOW,
        actions,
        resources,
        ...(conditions ? { conditions } : {}),
      }),
    );
  const deadLetterQueue = new Queue(scope, "InventoryAccountDeadLetters", {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: "AwsSolutions-SQS3",
    reason:
      "This queue is itself the dead-letter queue of the inventory's account queue; it has none of its own.",
  });
  const queue = new Queue(scope, "InventoryAccounts", {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Six times the worker's timeout, as Lambda advises, so a slow account is not handed out twice at once.
    visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
    retentionPeriod: Duration.days(1),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 3 },
  });

  // The scheduler lists the organisation (through its listing role) and enqueues; it reads no IAM itself.
  allow(scheduler, "AssumeOrganizationListingRole", ["sts:AssumeRole"], [o.organization.roleArn]);
  allow(scheduler, "InventoryRuns", ["dynamodb:PutItem"], [o.tableArn]);
  queue.grantSendMessages(scheduler);
  scheduler.addEnvironment(INVENTORY_QUEUE_ENV, queue.queueUrl);

  // The worker enters any member account, but only through the member role's name, and writes its table items.
  const partition = Stack.of(scope).partition;
  const memberRole = `arn:${partition}:iam::*:role/${o.organization.memberRoleName}`;
  allow(worker, "AssumeMemberInventoryRoles", ["sts:AssumeRole"], [memberRole]);
  const shown = Token.isUnresolved(partition) ? "<AWS::Partition>" : partition;
  Validations.of(worker.role!).acknowledge({
    id: `AwsSolutions::AwsSolutions-IAM5[Resource::arn:${shown}:iam::*:role/${o.organization.memberRoleName}]`,
    reason:
      "The organisation's accounts are listed at run time (Organizations ListAccounts), not known at synth: the worker may assume the one member role name in any account, which BrokerMemberRoles creates trusting only this role.",
  });
  allow(worker, "ReadIam", INVENTORY_IAM_ACTIONS, ["*"]);
  Validations.of(worker.role!).acknowledge({
    id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    reason: IAM_READ_REASON,
  });
  allow(
    worker,
    "InventoryStore",
    ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"],
    [o.tableArn],
  );
  allow(worker, "FirstGrants", ["dynamodb:Query"], o.indexArns);
  worker.addEnvironment(LAMBDA_ENV.brokerPrincipals, JSON.stringify(o.brokerRoleArns));
  worker.addEventSource(
    new SqsEventSource(queue, {
      batchSize: 1,
      maxConcurrency: o.organization.concurrency,
      reportBatchItemFailures: true,
    }),
  );

  scheduler.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
  const rule = new Rule(scope, "InventorySchedule", {
    description: "credbroker: starts the organisation's inventory run",
    schedule: o.schedule,
    targets: [
      new LambdaFunction(scheduler, { deadLetterQueue: o.scheduleDeadLetterQueue, retryAttempts: 2 }),
    ],
  });
  const alarm = new Alarm(scope, "InventorySyncAlarm", {
    alarmDescription: "credbroker inventory run failed to start: no account was synced today",
    metric: scheduler.metricErrors({ period: Duration.days(1), statistic: "Sum" }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  const accountsNotSyncedAlarm = new Alarm(scope, "InventoryAccountsNotSyncedAlarm", {
    alarmDescription:
      "credbroker inventory: an account could not be synced (its message is in the dead-letter queue; the report names it)",
    metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.hours(1),
      statistic: "Maximum",
    }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { function: scheduler, rule, alarm, worker, queue, deadLetterQueue, accountsNotSyncedAlarm };
}

export { WORKER_TIMEOUT };
