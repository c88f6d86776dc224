// The organisation inventory's deployed shape (CONTRACT §16), on a real synth with cdk-nag: the schedule
// starts a run that enqueues one message per account; a worker syncs one account per message with bounded
// concurrency, SQS retries it into a dead-letter queue, and an alarm watches that queue.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import { deployConfig, type TemplateResources, writeConfig } from "./support.ts";

const LISTING_ROLE = "arn:aws:iam::999988887777:role/credbroker-org-list";
let outdir: string;
let stack: CredbrokerStack;
let template: Template;
let resources: TemplateResources;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-org-"));
  const app = new App({ outdir });
  const config = deployConfig({
    inventory: {
      organization: { roleArn: LISTING_ROLE, memberRoleName: "credbroker-inventory", concurrency: 7 },
    },
  });
  stack = new CredbrokerStack(app, "Credbroker", {
    env: { account: "111122223333", region: "us-east-1" },
    broker: { configPath: writeConfig(config) },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  template = Template.fromStack(stack);
  resources = template.toJSON()["Resources"] as TemplateResources;
}, 400_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const statementsOf = (roleLogicalId: string) => {
  const policy = Object.values(resources).find(
    (r) =>
      r.Type === "AWS::IAM::Policy" &&
      JSON.stringify(r.Properties["Roles"]) === JSON.stringify([{ Ref: roleLogicalId }]),
  )!;
  return (policy.Properties["PolicyDocument"] as { Statement: Record<string, unknown>[] }).Statement;
};
const roleIdOf = (fn: { role?: unknown }) =>
  stack.getLogicalId((fn.role as never as { node: { defaultChild: never } }).node.defaultChild);

describe("CredentialBroker with an organisation inventory", () => {
  it("passes cdk-nag", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
  });

  it("syncs one account per message, at most the configured number at once, reporting failed items", () => {
    const org = stack.broker.organizationInventory!;
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: { Ref: stack.getLogicalId(org.worker.node.defaultChild as never) },
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 7 },
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    const queue = resources[stack.getLogicalId(org.queue.node.defaultChild as never)]!;
    expect(queue.Properties).toMatchObject({
      VisibilityTimeout: 1800,
      RedrivePolicy: {
        deadLetterTargetArn: {
          "Fn::GetAtt": [stack.getLogicalId(org.deadLetterQueue.node.defaultChild as never), "Arn"],
        },
        maxReceiveCount: 3,
      },
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ApproximateNumberOfMessagesVisible",
      Dimensions: [
        {
          Name: "QueueName",
          Value: {
            "Fn::GetAtt": [stack.getLogicalId(org.deadLetterQueue.node.defaultChild as never), "QueueName"],
          },
        },
      ],
      Threshold: 1,
    });
  });

  it("lets the scheduler list and enqueue only, and the worker enter member roles only", () => {
    const org = stack.broker.organizationInventory!;
    const scheduler = statementsOf(roleIdOf(org.function));
    const bySid = (list: Record<string, unknown>[]) => Object.fromEntries(list.map((s) => [s["Sid"], s]));
    expect(bySid(scheduler)["AssumeOrganizationListingRole"]).toMatchObject({
      Action: "sts:AssumeRole",
      Resource: LISTING_ROLE,
    });
    expect(scheduler.some((s) => s["Sid"] === "ReadIam")).toBe(false);
    expect(scheduler.find((s) => JSON.stringify(s["Action"]).includes("sqs:SendMessage"))).toBeDefined();
    const worker = bySid(statementsOf(roleIdOf(org.worker)));
    expect(worker["AssumeMemberInventoryRoles"]).toMatchObject({
      Action: "sts:AssumeRole",
      Resource: {
        "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":iam::*:role/credbroker-inventory"]],
      },
    });
    expect(worker["ReadIam"]).toMatchObject({ Resource: "*" });
    // The worker's role is the one member accounts trust.
    expect(stack.broker.functions.token.role).not.toBe(org.worker.role);
  });
});
