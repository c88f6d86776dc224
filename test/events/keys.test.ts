// The task a token names and the task an event ends must meet on the same keys (CONTRACT §13): GitHub by
// repository id or name, run id and attempt, check run; GitLab by project, pipeline and job. Pure functions.
import { describe, expect, it } from "vitest";
import { taskKeyOf } from "../../lib/core/events/task-keys.ts";
import { githubAction, gitlabAction, MalformedEvent } from "../../lib/core/events/webhooks.ts";
import { githubExample } from "./support.ts";

const EVENTS = {
  github: { secret: { env: "X" }, issuers: ["gh"] },
  gitlab: { secret: { env: "Y" }, issuers: ["gl"] },
};

describe("task keys", () => {
  it("meet between a GitHub job token and its completed workflow_job, by id and by name", () => {
    const action = githubAction("workflow_job", githubExample("workflow_job", "completed"));
    expect(action.kind).toBe("end");
    const tasks = action.kind === "end" ? action.tasks : [];
    const byId = taskKeyOf(EVENTS, "gh", {
      repository_id: 186853002,
      repository: "Codertocat/Hello-World",
      run_id: "2202229078",
      run_attempt: "1",
      check_run_id: "1291536064",
    });
    const byName = taskKeyOf(EVENTS, "gh", {
      repository: "codertocat/hello-world",
      run_id: 2202229078,
      run_attempt: 1,
      check_run_id: 1291536064,
    });
    for (const key of [byId, byName]) expect(tasks).toContainEqual({ run: key?.run, job: key?.job });
  });

  it.each([
    ["an issuer no CI system speaks for", "other", { repository: "a/b", run_id: "1", run_attempt: "1" }],
    ["a token without run_attempt", "gh", { repository: "a/b", run_id: "1" }],
    ["a GitLab token without pipeline_id", "gl", { project_id: "15", job_id: "3" }],
    ["a run id that is an object", "gh", { repository: "a/b", run_id: { x: 1 }, run_attempt: "1" }],
  ])("name no task for %s", (_, issuer, claims) => {
    expect(taskKeyOf(EVENTS, issuer, claims)).toBeUndefined();
  });

  it("meet between a GitLab job token and its Job Hook and Pipeline Hook", () => {
    const key = taskKeyOf(EVENTS, "gl", { project_id: "15", pipeline_id: "31", job_id: "380" });
    expect(
      gitlabAction("Job Hook", { build_status: "failed", project_id: 15, pipeline_id: 31, build_id: 380 }),
    ).toEqual({
      kind: "end",
      source: "gitlab",
      event: "Job Hook",
      tasks: [{ run: key?.run, job: key?.job }],
    });
    expect(
      gitlabAction("Pipeline Hook", {
        object_attributes: { id: 31, status: "canceled" },
        project: { id: 15 },
      }),
    ).toEqual({ kind: "end", source: "gitlab", event: "Pipeline Hook", tasks: [{ run: key?.run }] });
  });

  it.each([
    [
      "a workflow_job with a check_run_url that names no check run",
      "workflow_job",
      (p: Record<string, unknown>) => {
        (p["workflow_job"] as Record<string, unknown>)["check_run_url"] =
          "https://api.github.com/repos/a/b/check-runs/";
      },
    ],
    [
      "a workflow_run without repository",
      "workflow_run",
      (p: Record<string, unknown>) => {
        delete p["repository"];
      },
    ],
  ])("refuse %s as malformed", (_, event, mutate) => {
    const payload = githubExample(event, "completed");
    mutate(payload);
    expect(() => githubAction(event, payload)).toThrow(MalformedEvent);
  });
});

describe("findings", () => {
  it("read a Security Hub finding: its label as severity, the principal that names the session, the key from the resource id", async () => {
    const { findingsOf } = await import("../../lib/core/events/findings.ts");
    const [finding] = findingsOf({
      source: "aws.securityhub",
      "detail-type": "Security Hub Findings - Imported",
      detail: {
        findings: [
          {
            Id: "sh-keys",
            Types: ["TTPs/Credential Access"],
            Severity: { Label: "CRITICAL" },
            Resources: [
              {
                Type: "AwsIamAccessKey",
                Id: "AWS::IAM::AccessKey:ASIAQEXAMPLE33333333",
                Details: {
                  AwsIamAccessKey: {
                    PrincipalName:
                      "arn:aws:sts::111122223333:assumed-role/web-deployer/cb-01m9a00000000000000000abcd",
                  },
                },
              },
              { Type: "AwsEc2Instance", Id: "i-0123456789abcdef0" },
            ],
          },
        ],
      },
    });
    expect(finding).toMatchObject({
      id: "sh-keys",
      severity: 9,
      accessKeyIds: ["ASIAQEXAMPLE33333333"],
      principalIds: ["arn:aws:sts::111122223333:assumed-role/web-deployer/cb-01m9a00000000000000000abcd"],
    });
    expect(() => findingsOf({ source: "aws.inspector", detail: {} })).toThrow(MalformedEvent);
  });
});
