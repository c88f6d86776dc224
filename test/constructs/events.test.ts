// The deployed shape of task end and findings (CONTRACT §13), on a real synth with cdk-nag: the events
// function alone reads the webhook secrets, the two webhook routes reach it (acknowledged as
// self-authenticating), a rule per finding source delivers to it with the dead-letter queue, an alarm
// watches its errors, and the token function may read ended tasks. A webhook secret from an environment
// variable is refused at synth.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import { deployConfig, type TemplateResources, writeConfig } from "./support.ts";

const GITHUB_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/github-webhook-AbCdEf";
const GITLAB_SECRET = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/gitlab-webhook-GhIjKl";
const EVENTS = {
  github: { secret: { secretArn: GITHUB_SECRET }, issuers: ["github"] },
  gitlab: { secret: { secretArn: GITLAB_SECRET }, issuers: ["gitlab"] },
  findings: { sources: ["aws.guardduty", "aws.securityhub"], minSeverity: 4, signal: "finding" },
};

let outdir: string;
let stack: CredbrokerStack;
let resources: TemplateResources;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-events-"));
  const app = new App({ outdir });
  const base = deployConfig();
  const config = {
    ...base,
    issuers: [
      ...(base["issuers"] as unknown[]),
      { name: "gitlab", issuer: "https://gitlab.com", algorithms: ["RS256"] },
    ],
    events: EVENTS,
  };
  stack = new CredbrokerStack(app, "Credbroker", { broker: { configPath: writeConfig(config) } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth(); // throws on any unacknowledged cdk-nag finding
  resources = Template.fromStack(stack).toJSON()["Resources"] as TemplateResources;
}, 240_000);
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** Every statement of every role policy, with the role's logical id. */
const statements = (): (Record<string, unknown> & { roles: string })[] =>
  byType("AWS::IAM::Policy").flatMap(([, r]) =>
    (r.Properties["PolicyDocument"] as { Statement: Record<string, unknown>[] }).Statement.map((s) => ({
      ...s,
      roles: JSON.stringify(r.Properties["Roles"]),
    })),
  );
const roleRef = (fn: { role?: { node: { defaultChild?: unknown } } | undefined }) =>
  JSON.stringify([{ Ref: stack.getLogicalId(fn.role!.node.defaultChild as never) }]);

describe("CredentialBroker with events", () => {
  it("passes cdk-nag, acknowledging the webhook routes as self-authenticating", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
      pluginReports: { conclusion: string }[];
    };
    expect(report.pluginReports.filter((r) => r.conclusion !== "success")).toEqual([]);
    const acks: string[] = [];
    for (const c of stack.node.findAll())
      for (const m of c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
        for (const [id, reason] of Object.entries(m.data as Record<string, string>))
          if (c.node.path.includes("events"))
            acks.push(`${c.node.path.replace("Credbroker/Broker/", "")} ${id} ${reason.length > 60}`);
    expect(acks.sort()).toEqual([
      "Api/POST--events--github Annotation::AwsSolutions-APIG4 true",
      "Api/POST--events--gitlab Annotation::AwsSolutions-APIG4 true",
    ]);
  });

  it("routes POST /events/github and /events/gitlab to the events function, without IAM auth", () => {
    const routes = byType("AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties);
    const keys = routes.map((r) => r["RouteKey"]);
    expect(keys).toContain("POST /events/github");
    expect(keys).toContain("POST /events/gitlab");
    for (const r of routes.filter((r) => String(r["RouteKey"]).includes("/events/")))
      expect(r["AuthorizationType"] ?? "NONE").toBe("NONE");
  });

  it("lets only the events function read the webhook secrets", () => {
    const readers = statements().filter((s) =>
      JSON.stringify(s["Resource"]).match(/github-webhook|gitlab-webhook/),
    );
    expect(readers.length).toBeGreaterThan(0);
    for (const s of readers) {
      expect(s.roles).toBe(roleRef(stack.broker.events!.function));
      expect(s["Action"]).toBe("secretsmanager:GetSecretValue");
    }
  });

  it("delivers GuardDuty and Security Hub findings at or above minSeverity, with the dead-letter queue", () => {
    const rules = byType("AWS::Events::Rule")
      .map(([, r]) => r.Properties)
      .filter((p) => p["EventPattern"]);
    const patterns = rules.map((r) => r["EventPattern"]);
    expect(patterns).toContainEqual({
      source: ["aws.guardduty"],
      "detail-type": ["GuardDuty Finding"],
      detail: { severity: [{ numeric: [">=", 4] }] },
    });
    expect(patterns).toContainEqual({
      source: ["aws.securityhub"],
      "detail-type": ["Security Hub Findings - Imported"],
      detail: { findings: { Severity: { Label: ["MEDIUM", "HIGH", "CRITICAL"] } } },
    });
    for (const r of rules) {
      const [target] = r["Targets"] as Record<string, unknown>[];
      expect(target?.["DeadLetterConfig"]).toBeDefined();
    }
  });

  it("alarms on the events function's errors, and lets /token read ended tasks in one call", () => {
    expect(stack.broker.events?.alarm).toBeDefined();
    const tokenBatch = statements().filter(
      (s) =>
        s.roles === roleRef(stack.broker.functions.token) &&
        JSON.stringify(s["Action"]).includes("BatchGetItem"),
    );
    expect(tokenBatch).toHaveLength(1);
  });

  it("refuses a webhook secret from an environment variable at synth", () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), "credbroker-cdk-events-env-")) });
    const config = deployConfig({
      events: { github: { secret: { env: "WEBHOOK_SECRET" }, issuers: ["github"] } },
    });
    expect(() => new CredbrokerStack(app, "Bad", { broker: { configPath: writeConfig(config) } })).toThrow(
      /events\.github\.secret\.env: an environment variable is for dev and tests only/,
    );
  });
});
