// The deployed shape of credbroker, asserted on a real synth (esbuild bundling, cdk-nag AwsSolutions).
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Duration, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { Schedule } from "aws-cdk-lib/aws-events";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE_INDEXES } from "../../lib/aws/table-definition.ts";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import type { BrokerFunctionName } from "../../lib/constructs/credential-broker.ts";
import { DEPLOY_ROLE, deployConfig, REPORTS_ROLE, roleStatements, writeConfig } from "./support.ts";

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }
>;

let app: App;
let stack: CredbrokerStack;
let template: Template;
let resources: Resources;
let outdir: string;

/** The logical id of a construct's CloudFormation resource. */
const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId((construct.node.defaultChild ?? construct) as never);

/** A function role's policy statements, with CloudFormation references rendered as readable names. */
const statementsOf = (name: BrokerFunctionName) => roleStatements(stack, resources, name);

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-out-"));
  app = new App({ outdir });
  stack = new CredbrokerStack(app, "Credbroker", { broker: { configPath: writeConfig(deployConfig()) } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  // Throws ValidationFailed if cdk-nag reports any unacknowledged finding.
  app.synth();
  template = Template.fromStack(stack);
  resources = template.toJSON()["Resources"] as Resources;
}, 240_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("CredentialBroker: cdk-nag", () => {
  it("passes the AwsSolutions pack with no unacknowledged finding", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("acknowledges only public OAuth routes and the dead-letter queue, each with a reason", () => {
    const acks: { path: string; id: string; reason: string }[] = [];
    for (const c of stack.node.findAll()) {
      for (const entry of c.node.metadata.filter(
        (m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY,
      )) {
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>))
          acks.push({ path: c.node.path, id, reason });
      }
    }
    expect(acks.map((a) => `${a.path.replace("Credbroker/Broker/", "")} ${a.id}`).sort()).toEqual([
      "Api/ANY--.well-known--jwks.json Annotation::AwsSolutions-APIG4",
      "Api/ANY--.well-known--oauth-authorization-server Annotation::AwsSolutions-APIG4",
      "Api/ANY--approvals Annotation::AwsSolutions-APIG4",
      "Api/ANY--approvals--{id} Annotation::AwsSolutions-APIG4",
      "Api/ANY--revoke Annotation::AwsSolutions-APIG4",
      "Api/ANY--token Annotation::AwsSolutions-APIG4",
      "SweepDeadLetters Annotation::AwsSolutions-SQS3",
    ]);
    // No inventory block in the config: no inventory function and no IAM read rights.
    expect(stack.broker.inventory).toBeUndefined();
    for (const a of acks) expect(a.reason.length).toBeGreaterThan(60);
  });
});

describe("CredentialBroker: state", () => {
  it("creates an on-demand table with PITR, deletion protection, RETAIN, the ttl attribute and the store's indexes", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: TABLE_INDEXES.map((i) => ({
          IndexName: i.indexName,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: "HASH" },
            { AttributeName: i.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        })),
      },
    });
  });

  it("creates an ECC_NIST_P256 SIGN_VERIFY KMS key that is retained", () => {
    template.hasResource("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: { KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" },
    });
  });
});

describe("CredentialBroker: functions", () => {
  const names: BrokerFunctionName[] = ["token", "introspect", "revoke", "metadata", "sweep", "approvals"];

  it.each(names)(
    "bundles %s for nodejs24.x on arm64 with the validated config and the Cedar wasm",
    (name) => {
      const fn = stack.broker.functions[name];
      template.hasResourceProperties("AWS::Lambda::Function", {
        Runtime: "nodejs24.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        Role: { "Fn::GetAtt": [logicalId(fn.role as never), "Arn"] },
        Environment: {
          Variables: Match.objectLike({
            CREDBROKER_CONFIG_BUNDLE: "credbroker.config.json",
            CREDBROKER_DUE_SHARDS: "8",
          }),
        },
      });
      const code = (resources[logicalId(fn)]!.Properties["Code"] as { S3Key: string }).S3Key;
      const assetDir = join(outdir, `asset.${code.replace(/\.zip$/, "")}`);
      expect(existsSync(join(assetDir, "index.mjs"))).toBe(true);
      expect(existsSync(join(assetDir, "cedar_wasm_bg.wasm"))).toBe(true);
      const bundle = JSON.parse(readFileSync(join(assetDir, "credbroker.config.json"), "utf8"));
      expect(bundle.config).toEqual(stack.broker.resolvedConfig.config);
      expect(bundle.policyFiles.map((f: { file: string }) => f.file)).toEqual(["policies/main.cedar"]);
    },
  );

  it("gives the signing key to every function except the sweep and the approvals function", () => {
    for (const name of names) {
      const env = (
        resources[logicalId(stack.broker.functions[name])]!.Properties["Environment"] as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      if (name === "sweep" || name === "approvals")
        expect(env).not.toHaveProperty("CREDBROKER_SIGNING_KEY_ID");
      else
        expect(env["CREDBROKER_SIGNING_KEY_ID"]).toEqual({
          "Fn::GetAtt": [logicalId(stack.broker.signingKey), "Arn"],
        });
    }
  });

  it("attaches no managed policy to any function role", () => {
    for (const name of names)
      expect(resources[logicalId(stack.broker.functions[name].role as never)]!.Properties).not.toHaveProperty(
        "ManagedPolicyArns",
      );
  });
});

describe("CredentialBroker: least privilege", () => {
  const TABLE = "AWS::DynamoDB::Table";
  const KEY = "AWS::KMS::Key";
  const LOGS = "AWS::Logs::LogGroup";
  const taskRoles = [DEPLOY_ROLE, REPORTS_ROLE].sort();
  const iamRevocation = {
    actions: ["iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"],
    resources: taskRoles,
  };
  const logs = { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: [LOGS] };

  it.each<[BrokerFunctionName, { actions: string[]; resources: string[] }[]]>([
    [
      "token",
      [
        logs,
        {
          actions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          resources: [TABLE],
        },
        { actions: ["kms:Sign"], resources: [KEY] },
        { actions: ["kms:GetPublicKey"], resources: [KEY] },
        { actions: ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"], resources: taskRoles },
      ],
    ],
    [
      "introspect",
      [
        logs,
        { actions: ["dynamodb:GetItem"], resources: [TABLE] },
        { actions: ["kms:GetPublicKey"], resources: [KEY] },
      ],
    ],
    [
      "revoke",
      [
        logs,
        { actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [TABLE] },
        { actions: ["kms:GetPublicKey"], resources: [KEY] },
        iamRevocation,
      ],
    ],
    ["metadata", [logs, { actions: ["kms:GetPublicKey"], resources: [KEY] }]],
    [
      "approvals",
      [
        logs,
        { actions: ["dynamodb:GetItem", "dynamodb:PutItem"], resources: [TABLE] },
        { actions: ["dynamodb:Query"], resources: [`${TABLE}/index/gsi3`] },
      ],
    ],
    [
      "sweep",
      [
        logs,
        {
          actions: [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
          ],
          resources: [TABLE],
        },
        { actions: ["dynamodb:Query"], resources: [`${TABLE}/index/gsi2`, `${TABLE}/index/gsi3`] },
        iamRevocation,
        {
          actions: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
          resources: ["AWS::SQS::Queue"],
        },
      ],
    ],
  ])("the %s role allows exactly what that function uses", (name, expected) => {
    expect(statementsOf(name)).toEqual(expected);
  });

  it("grants no wildcard resource or action to any function", () => {
    for (const name of ["token", "introspect", "revoke", "metadata", "sweep", "approvals"] as const) {
      for (const s of statementsOf(name)) {
        for (const r of s.resources) expect(r).not.toContain("*");
        for (const a of s.actions) expect(a).not.toContain("*");
      }
    }
  });

  it("keeps the signing key's administration with the account (the key policy's * is the key itself)", () => {
    template.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: [
          Match.objectLike({
            Action: "kms:*",
            Effect: "Allow",
            Principal: { AWS: Match.anyValue() },
            Resource: "*",
          }),
        ],
      },
    });
  });
});

describe("CredentialBroker: retired task roles", () => {
  const RETIRED_ROLE = "arn:aws:iam::111122223333:role/old-deployer";
  const TABLE = "AWS::DynamoDB::Table";
  const KEY = "AWS::KMS::Key";
  const logs = { actions: ["logs:CreateLogStream", "logs:PutLogEvents"], resources: ["AWS::Logs::LogGroup"] };
  const iamActions = ["iam:DeleteRolePolicy", "iam:GetRolePolicy", "iam:PutRolePolicy"];
  let retired: CredbrokerStack;
  let retiredResources: Resources;

  beforeAll(() => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    // DEPLOY_ROLE is still a task's role: listing it as retired as well changes nothing.
    retired = new CredbrokerStack(other, "Retired", {
      broker: { configPath: writeConfig(deployConfig()), retiredTaskRoleArns: [RETIRED_ROLE, DEPLOY_ROLE] },
    });
    retiredResources = Template.fromStack(retired).toJSON()["Resources"] as Resources;
  }, 120_000);

  it.each<[BrokerFunctionName, { actions: string[]; resources: string[] }[]]>([
    [
      "token",
      [
        logs,
        {
          actions: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          resources: [TABLE],
        },
        { actions: ["kms:Sign"], resources: [KEY] },
        { actions: ["kms:GetPublicKey"], resources: [KEY] },
        {
          actions: ["sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession"],
          resources: [DEPLOY_ROLE, REPORTS_ROLE].sort(),
        },
      ],
    ],
    [
      "revoke",
      [
        logs,
        { actions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [TABLE] },
        { actions: ["kms:GetPublicKey"], resources: [KEY] },
        { actions: iamActions, resources: [DEPLOY_ROLE, REPORTS_ROLE, RETIRED_ROLE].sort() },
      ],
    ],
    [
      "sweep",
      [
        logs,
        {
          actions: [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
          ],
          resources: [TABLE],
        },
        { actions: ["dynamodb:Query"], resources: [`${TABLE}/index/gsi2`, `${TABLE}/index/gsi3`] },
        { actions: iamActions, resources: [DEPLOY_ROLE, REPORTS_ROLE, RETIRED_ROLE].sort() },
        {
          actions: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"],
          resources: ["AWS::SQS::Queue"],
        },
      ],
    ],
  ])(
    "the %s role keeps exactly its rights, revocation writes on the retired role included",
    (name, expected) => {
      expect(roleStatements(retired, retiredResources, name)).toEqual(expected);
    },
  );

  it("lists the retired roles the config no longer names", () => {
    expect(retired.broker.retiredTaskRoleArns).toEqual([RETIRED_ROLE]);
  });

  it("keeps revocation rights on retired roles after the last aws-sts task is removed, and no STS right", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const config = deployConfig();
    config["tasks"] = (config["tasks"] as { provider: string }[]).filter((t) => t.provider === "jwt");
    const s = new CredbrokerStack(other, "AllRetired", {
      broker: { configPath: writeConfig(config), retiredTaskRoleArns: [DEPLOY_ROLE] },
    });
    const r = Template.fromStack(s).toJSON()["Resources"] as Resources;
    for (const name of ["sweep", "revoke"] as const)
      expect(roleStatements(s, r, name)).toContainEqual({ actions: iamActions, resources: [DEPLOY_ROLE] });
    expect(JSON.stringify(Template.fromStack(s).findResources("AWS::IAM::Policy"))).not.toMatch(/"sts:/);
  });

  it.each([
    ["not an IAM role ARN", "arn:aws:iam::111122223333:user/old-deployer", undefined, /not an IAM role ARN/],
    [
      "in another account than the broker's",
      "arn:aws:iam::444455556666:role/old-partner",
      "111122223333",
      /not in the broker's account 111122223333/,
    ],
  ])("rejects a retired role %s at synth", (_label, arn, account, message) => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    expect(
      () =>
        new CredbrokerStack(other, "BadRetired", {
          ...(account ? { env: { account, region: "us-east-1" } } : {}),
          broker: { configPath: writeConfig(deployConfig()), retiredTaskRoleArns: [arn] },
        }),
    ).toThrow(message);
  });
});

describe("CredentialBroker: HTTP API", () => {
  it.each([
    ["ANY /token", "NONE", "token"],
    ["ANY /revoke", "NONE", "revoke"],
    ["ANY /introspect", "AWS_IAM", "introspect"],
    ["ANY /.well-known/jwks.json", "NONE", "metadata"],
    ["ANY /.well-known/oauth-authorization-server", "NONE", "metadata"],
    ["ANY /approvals", "NONE", "approvals"],
    ["ANY /approvals/{id}", "NONE", "approvals"],
  ] as const)("routes %s (auth %s) to the %s function", (routeKey, auth, fn) => {
    const route = Object.values(resources).find(
      (r) => r.Type === "AWS::ApiGatewayV2::Route" && r.Properties["RouteKey"] === routeKey,
    );
    expect(route?.Properties["AuthorizationType"]).toBe(auth);
    const integrationId = (
      (route!.Properties["Target"] as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1][1] as {
        Ref: string;
      }
    ).Ref;
    const integration = resources[integrationId]!;
    expect(JSON.stringify(integration.Properties["IntegrationUri"])).toContain(
      logicalId(stack.broker.functions[fn]),
    );
  });

  it("has exactly those seven routes", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Route", 7);
  });

  it("throttles the $default stage and writes JSON access logs without query strings or headers", () => {
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: { "Fn::GetAtt": [logicalId(stack.broker.accessLogGroup), "Arn"] },
        Format: Match.anyValue(),
      },
    });
    const stage = Object.values(resources).find((r) => r.Type === "AWS::ApiGatewayV2::Stage")!;
    const format = (stage.Properties["AccessLogSettings"] as { Format: string }).Format;
    const sample = JSON.parse(
      format.replace(/\$context\.[A-Za-z.]+/g, (m) => (m === "$context.status" ? "503" : "x")),
    );
    expect(Object.keys(sample).sort()).toEqual([
      "apiId",
      "integrationError",
      "ip",
      "latencyMs",
      "requestId",
      "routeKey",
      "status",
      "time",
    ]);
    expect(format).not.toMatch(/querystring|header|body|authorization/i);
  });

  it("outputs the API URL, the table, the key and the roles target accounts trust", () => {
    for (const name of [
      "ApiUrl",
      "TableName",
      "SigningKeyArn",
      "TokenRoleArn",
      "SweepRoleArn",
      "RevokeRoleArn",
    ])
      template.hasOutput(name, {});
  });
});

describe("CredentialBroker: sweep schedule and alarms", () => {
  it("runs the sweep every minute with a dead-letter queue on the target", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      Targets: [
        Match.objectLike({
          Arn: { "Fn::GetAtt": [logicalId(stack.broker.functions.sweep), "Arn"] },
          DeadLetterConfig: { Arn: { "Fn::GetAtt": [logicalId(stack.broker.deadLetterQueue), "Arn"] } },
        }),
      ],
    });
  });

  it("sends failed sweep invocations to the same queue without retrying (the next run resumes)", () => {
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      FunctionName: { Ref: logicalId(stack.broker.functions.sweep) },
      MaximumRetryAttempts: 0,
      DestinationConfig: {
        OnFailure: { Destination: { "Fn::GetAtt": [logicalId(stack.broker.deadLetterQueue), "Arn"] } },
      },
    });
    template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
  });

  it("alarms on sweep errors: a crashed run (Lambda Errors) or failed steps the run reported (SweepErrors)", () => {
    const alarm = Object.values(template.findResources("AWS::CloudWatch::Alarm")).find((a) =>
      JSON.stringify(a).includes("FILL(crashed, 0) + FILL(failedSteps, 0)"),
    ) as { Properties: { Metrics: Record<string, unknown>[]; Threshold: number } } | undefined;
    expect(alarm).toBeDefined();
    expect(alarm!.Properties.Threshold).toBe(1);
    const metrics = JSON.stringify(alarm!.Properties.Metrics);
    expect(metrics).toContain('"MetricName":"Errors","Namespace":"AWS/Lambda"');
    expect(metrics).toContain('"MetricName":"SweepErrors","Namespace":"credbroker"');
    // And the deploy guide says so, so that an operator reading a firing alarm looks at both.
    const doc = readFileSync(join(import.meta.dirname, "../../docs/deploy.md"), "utf8");
    const bullet = doc.split("\n").find((l) => l.trim().startsWith("- `sweepErrors`:"));
    expect(bullet).toMatch(/Lambda `Errors`/);
    expect(bullet).toMatch(/`SweepErrors`/);
  });

  it("alarms on sweep lag over 5 minutes, and when the sweep stops reporting", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "credbroker",
      MetricName: "SweepLagSeconds",
      Statistic: "Maximum",
      Period: 300,
      EvaluationPeriods: 1,
      Threshold: 300,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "breaching",
    });
  });

  it("alarms on any 5xx from POST /token, counted from the access log", () => {
    template.hasResourceProperties("AWS::Logs::MetricFilter", {
      LogGroupName: { Ref: logicalId(stack.broker.accessLogGroup) },
      FilterPattern: '{ ($.routeKey = "ANY /token") && ($.status >= 500) }',
      MetricTransformations: [
        Match.objectLike({
          MetricNamespace: "credbroker",
          MetricName: "Token5xx",
          MetricValue: "1",
          Dimensions: [{ Key: "ApiId", Value: "$.apiId" }],
        }),
      ],
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Namespace: "credbroker",
      MetricName: "Token5xx",
      Dimensions: [{ Name: "ApiId", Value: { Ref: logicalId(stack.broker.api) } }],
      Threshold: 1,
    });
  });
});

describe("CredentialBroker: props", () => {
  it("takes a custom sweep schedule, throttle and lag threshold", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const s = new CredbrokerStack(other, "Custom", {
      broker: {
        configPath: writeConfig(deployConfig()),
        sweepSchedule: Schedule.rate(Duration.minutes(5)),
        throttle: { rateLimit: 5, burstLimit: 10 },
        sweepLagThreshold: Duration.minutes(15),
      },
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(5 minutes)" });
    t.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "SweepLagSeconds", Threshold: 900 });
  });

  it("with a 15-minute sweep schedule, looks at the lag over 30 minutes, so every period holds a run", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const s = new CredbrokerStack(other, "SlowSweep", {
      broker: { configPath: writeConfig(deployConfig()), sweepSchedule: Schedule.rate(Duration.minutes(15)) },
    });
    const t = Template.fromStack(s);
    t.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(15 minutes)" });
    t.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "SweepLagSeconds",
      Period: 1800,
      EvaluationPeriods: 1,
      TreatMissingData: "breaching",
    });
  });

  it("with a cron sweep schedule, alarms on a reported lag only: its gaps are unknown", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const s = new CredbrokerStack(other, "CronSweep", {
      broker: { configPath: writeConfig(deployConfig()), sweepSchedule: Schedule.cron({ minute: "0/10" }) },
    });
    Template.fromStack(s).hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "SweepLagSeconds",
      Period: 300,
      TreatMissingData: "notBreaching",
    });
  });

  it("grants no STS or IAM rights when no task uses aws-sts", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const config = deployConfig();
    config["tasks"] = (config["tasks"] as { provider: string }[]).filter((t) => t.provider === "jwt");
    const s = new CredbrokerStack(other, "JwtOnly", { broker: { configPath: writeConfig(config) } });
    const policies = Template.fromStack(s).findResources("AWS::IAM::Policy");
    expect(Object.keys(policies)).toHaveLength(6);
    expect(JSON.stringify(policies)).not.toMatch(/"sts:|"iam:/);
  });

  it("lets the sweep and revoke functions assume the cross-account revocation writer roles a config names", () => {
    const other = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const writer = "arn:aws:iam::444455556666:role/credbroker-revocation-writer";
    const config = deployConfig();
    (config["tasks"] as Record<string, unknown>[]).push({
      name: "partner-deploy",
      provider: "aws-sts",
      roleArn: "arn:aws:iam::444455556666:role/partner-deployer",
      revocationRoleArn: writer,
    });
    const s = new CredbrokerStack(other, "CrossAccount", { broker: { configPath: writeConfig(config) } });
    const policies = Object.values(Template.fromStack(s).findResources("AWS::IAM::Policy"));
    const assuming = policies.filter((p) =>
      JSON.stringify(p).includes(
        JSON.stringify({
          Action: "sts:AssumeRole",
          Effect: "Allow",
          Resource: writer,
          Sid: "AssumeRevocationWriters",
        }),
      ),
    );
    expect(assuming).toHaveLength(2);
    expect(s.broker.revocationWriterArns).toEqual([writer]);
  });
});
