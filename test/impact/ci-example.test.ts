// examples/github-actions/policy-impact.yml stays in step with the CLI, the action and the demo config: it
// runs `policy impact` with flags the command takes, asks the broker for a task that exists, and that task
// can read the broker's table and nothing else.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { loadConfigFile } from "../../lib/config/load.ts";
import { createWorkloadMatcher } from "../../lib/core/identity/workloads.ts";
import { createAuthorizer } from "../../lib/core/policy/authorizer.ts";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

const workflow = async () =>
  parseYaml(await readFile("examples/github-actions/policy-impact.yml", "utf8")) as {
    on: { pull_request: { paths: string[] } };
    permissions: Record<string, string>;
    jobs: { impact: { steps: Step[] } };
  };

describe("examples/github-actions/policy-impact.yml", () => {
  it("runs on pull requests touching the config or policies and may comment and mint an OIDC token", async () => {
    const w = await workflow();
    expect(w.on.pull_request.paths).toEqual(expect.arrayContaining(["broker.config.yaml", "policies/**"]));
    expect(w.permissions).toMatchObject({ "id-token": "write", "pull-requests": "write", contents: "read" });
  });

  it("gets its credentials through the broker with inputs the action declares", async () => {
    const w = await workflow();
    const action = parseYaml(await readFile("action.yml", "utf8")) as { inputs: Record<string, unknown> };
    const broker = w.jobs.impact.steps.filter((s) => s.uses?.includes("credbroker"));
    expect(broker).toHaveLength(1);
    for (const input of Object.keys(broker[0]!.with!)) expect(Object.keys(action.inputs)).toContain(input);
    expect(broker[0]!.with!["task"]).toBe("read-broker-table");
  });

  it("runs policy impact as Markdown with the CI gate", async () => {
    const w = await workflow();
    const run = w.jobs.impact.steps.map((s) => s.run ?? "").find((r) => r.includes("policy impact"))!;
    expect(run).toMatch(/credbroker policy impact --config \S+ --days 14 --format markdown --fail-on-change/);
  });

  it("has a demo task that reads only the broker's table, allowed to the config repository's pull requests only", async () => {
    const resolved = await loadConfigFile("examples/broker.config.yaml");
    const task = resolved.config.tasks.find((t) => t.name === "read-broker-table");
    expect(task?.provider).toBe("aws-sts");
    const statements = (task as { sessionPolicy: { Statement: Record<string, unknown>[] } }).sessionPolicy
      .Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Effect: "Allow", Action: ["dynamodb:Query", "dynamodb:GetItem"] });
    const resources = statements[0]!["Resource"] as string[];
    const table = resources[0]!;
    expect(table).toMatch(/^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table\/[\w.-]+$/);
    expect(resources).toEqual([table, `${table}/index/*`]);

    const authorizer = createAuthorizer(resolved.policies);
    const matcher = createWorkloadMatcher(resolved.config.workloads);
    const decide = (subject: string) => {
      const w = matcher.match("dev", subject)!;
      return authorizer.decide({
        workload: { name: w.name, issuer: w.issuer, subject },
        tags: { sub: subject },
        task: { name: task!.name, provider: task!.provider, sensitivity: task!.sensitivity },
        context: {
          sourceIp: "203.0.113.9",
          nowMs: Date.parse("2026-11-30T10:00:00Z"),
          durationSeconds: 900,
          purpose: "",
        },
      });
    };
    expect(decide("repo:acme/broker-config:pull_request")).toMatchObject({
      allowed: true,
      policyIds: ["config-ci-reads-broker-table"],
    });
    for (const w of resolved.config.workloads.filter(
      (w) => w.name !== "config-ci" && !w.subject.includes("*"),
    ))
      expect(decide(w.subject).allowed).toBe(false);
  });
});
