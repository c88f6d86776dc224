// The task-end and findings half of the CredentialBroker construct (CONTRACT §13), only when the config has
// `events`: the events function (the only one that may read the webhook secrets), its two public routes,
// an EventBridge rule per finding source with the broker's dead-letter queue, and an alarm on its errors.
// It ends grants like the revoke function does, so it holds the same revocation rights.
import { Duration, Validations } from "aws-cdk-lib";
import type { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpMethod } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Rule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { Effect, PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Key } from "aws-cdk-lib/aws-kms";
import { SqsDestination } from "aws-cdk-lib/aws-lambda-destinations";
import type { NodejsFunction } from "aws-cdk-lib/aws-lambda-nodejs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { EventsConfig } from "../config/events-schema.ts";
import { ConfigError } from "../config/resolve.ts";
import { EVENT_PATHS } from "../http/event-routes.ts";
import { LAMBDA_ENV } from "../runtime/lambda-env.ts";

export interface BrokerEvents {
  readonly function: NodejsFunction;
  /** One rule per configured finding source. */
  readonly rules: readonly Rule[];
  /** The events function failed (a finding not handled, a webhook answered 503). */
  readonly alarm: Alarm;
}

/** Security Hub's severity labels at or above a GuardDuty-scale minimum (LOW 1, MEDIUM 4, HIGH 7, CRITICAL 9). */
export function securityHubLabels(minSeverity: number): string[] {
  return (
    [
      ["LOW", 1],
      ["MEDIUM", 4],
      ["HIGH", 7],
      ["CRITICAL", 9],
    ] as const
  )
    .filter(([, n]) => n >= minSeverity)
    .map(([label]) => label);
}

/** On AWS a webhook secret lives in Secrets Manager: `{ env }` would need the value in the function's config. */
export function eventsDeployProblems(events: EventsConfig | undefined): string[] {
  return (["github", "gitlab"] as const).flatMap((source) =>
    events?.[source] && "env" in events[source].secret
      ? [`events.${source}.secret.env: an environment variable is for dev and tests only; give secretArn`]
      : [],
  );
}

export function addBrokerEvents(
  scope: Construct,
  fn: NodejsFunction,
  o: {
    events: EventsConfig;
    configPath: string;
    api: HttpApi;
    tableArn: string;
    token: NodejsFunction;
    deadLetterQueue: Queue;
    revocableRoleArns: readonly string[];
    revocationWriterArns: readonly string[];
    databaseSecretArns: readonly string[];
    tokenKey?: Key | undefined;
  },
): BrokerEvents {
  const problems = eventsDeployProblems(o.events);
  if (problems.length > 0) throw new ConfigError(o.configPath, problems);
  const allow = (target: NodejsFunction, sid: string, actions: string[], resources: string[]) =>
    target.addToRolePolicy(new PolicyStatement({ sid, effect: Effect.ALLOW, actions, resources }));

  // Grants, deliveries, ended tasks and signals are single items; a task's grants are one query on gsi4,
  // a flagged workload's live grants one on gsi3 (its re-evaluation).
  allow(
    fn,
    "GrantStore",
    ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
    [o.tableArn],
  );
  allow(fn, "GrantIndexes", ["dynamodb:Query"], [`${o.tableArn}/index/gsi3`, `${o.tableArn}/index/gsi4`]);
  // The token path reads a task's ended records (the run's and the job's) in one BatchGetItem.
  if (o.events.github || o.events.gitlab)
    allow(o.token, "EndedTasks", ["dynamodb:BatchGetItem"], [o.tableArn]);
  // Only this function may read the webhook secrets.
  const secretArns = (["github", "gitlab"] as const).flatMap((s) => {
    const secret = o.events[s]?.secret;
    return secret && "secretArn" in secret ? [secret.secretArn] : [];
  });
  const readable = [...new Set([...secretArns, ...o.databaseSecretArns])];
  if (readable.length > 0) allow(fn, "ReadSecrets", ["secretsmanager:GetSecretValue"], readable);
  // Ending a grant ends its credential, as the revoke function does.
  if (o.revocableRoleArns.length > 0)
    allow(
      fn,
      "WriteRevocations",
      ["iam:GetRolePolicy", "iam:PutRolePolicy", "iam:DeleteRolePolicy"],
      [...o.revocableRoleArns],
    );
  if (o.revocationWriterArns.length > 0)
    allow(fn, "AssumeRevocationWriters", ["sts:AssumeRole"], [...o.revocationWriterArns]);
  if (o.tokenKey) {
    fn.addEnvironment(LAMBDA_ENV.tokenKey, o.tokenKey.keyArn);
    fn.addToRolePolicy(
      new PolicyStatement({
        sid: "OpenGithubTokens",
        actions: ["kms:Decrypt"],
        resources: [o.tokenKey.keyArn],
        conditions: {
          "ForAllValues:StringEquals": { "kms:EncryptionContextKeys": ["credbroker-grant"] },
          Null: { "kms:EncryptionContext:credbroker-grant": "false" },
        },
      }),
    );
  }

  const integration = new HttpLambdaIntegration("eventsFunctionIntegration", fn);
  for (const source of ["github", "gitlab"] as const) {
    if (!o.events[source]) continue;
    for (const route of o.api.addRoutes({
      path: EVENT_PATHS[source],
      methods: [HttpMethod.POST],
      integration,
    }))
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "A CI system's webhook cannot sign AWS requests: the events function authenticates every delivery itself, the HMAC signature (GitHub) or token (GitLab) checked in constant time against the secret before the body is read.",
      });
  }

  const rules: Rule[] = [];
  const findings = o.events.findings;
  if (findings) {
    // A finding whose handling failed (the table or IAM out of reach) is retried, then kept for an operator.
    fn.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      onFailure: new SqsDestination(o.deadLetterQueue),
    });
    const target = new LambdaFunction(fn, { deadLetterQueue: o.deadLetterQueue, retryAttempts: 4 });
    if (findings.sources.includes("aws.guardduty"))
      rules.push(
        new Rule(scope, "GuardDutyFindings", {
          description: "credbroker: GuardDuty findings that may name a broker session",
          eventPattern: {
            source: ["aws.guardduty"],
            detailType: ["GuardDuty Finding"],
            detail: { severity: [{ numeric: [">=", findings.minSeverity] }] },
          },
          targets: [target],
        }),
      );
    const labels = securityHubLabels(findings.minSeverity);
    if (findings.sources.includes("aws.securityhub") && labels.length > 0)
      rules.push(
        new Rule(scope, "SecurityHubFindings", {
          description: "credbroker: Security Hub findings that may name a broker session",
          eventPattern: {
            source: ["aws.securityhub"],
            detailType: ["Security Hub Findings - Imported"],
            detail: { findings: { Severity: { Label: labels } } },
          },
          targets: [target],
        }),
      );
  }
  const alarm = new Alarm(scope, "EventsErrorsAlarm", {
    alarmDescription:
      "credbroker events function failed: a task end or a security finding may not have ended its grants",
    metric: fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  return { function: fn, rules, alarm };
}
