// GitLab's Job Hook and Pipeline Hook (payloads shaped as GitLab's webhook documentation shows them) and
// AWS security findings (`credbroker events put FILE`) against `credbroker dev`.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventsCommand } from "../../lib/cli/events.ts";
import type { DevBroker } from "../../lib/local/dev-server.ts";
import { cleanEnv, runCli } from "../client/run-cli.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import {
  deliverGitlab,
  type EventsDev,
  exchange,
  GITLAB_SECRET,
  GITLAB_SECRET_ENV,
  issueGrant,
  startEventsDev,
  statusOf,
} from "./support.ts";

const SUB = "repo:acme/web:ref:refs/heads/main";
const CI = {
  repository: "acme/web",
  ref: "refs/heads/main",
  project_id: "15",
  pipeline_id: "31",
  job_id: "380",
};
let aws: AwsQueryServer;
let dev: DevBroker;
let dataDir: string;
let world: EventsDev;

beforeAll(async () => {
  aws = await startAwsQueryServer();
  world = await startEventsDev({
    events: `  gitlab:\n    secret: { env: ${GITLAB_SECRET_ENV} }\n    issuers: [dev]\n`,
    env: { [GITLAB_SECRET_ENV]: GITLAB_SECRET },
    aws,
  });
  dev = world.dev;
  dataDir = world.dataDir;
});
afterAll(async () => {
  await world?.close();
  await aws?.close();
});

const issue = (claims: Record<string, unknown>, task: string) => issueGrant(dev, SUB, claims, task);

/** A Job Hook as GitLab sends it (docs: "Job events"), trimmed of fields the broker does not read. */
const jobHook = (projectId: number, pipelineId: number, buildId: number, status = "success") => ({
  object_kind: "build",
  ref: "main",
  tag: false,
  before_sha: "2293ada6b400935a1378653304eaf6221e0fdb8f",
  sha: "2293ada6b400935a1378653304eaf6221e0fdb8f",
  build_id: buildId,
  build_name: "test",
  build_stage: "test",
  build_status: status,
  build_created_at: "2021-02-23T02:41:37.886Z",
  build_started_at: null,
  build_finished_at: null,
  build_duration: null,
  build_allow_failure: false,
  build_failure_reason: "script_failure",
  pipeline_id: pipelineId,
  project_id: projectId,
  project_name: "gitlab-org/gitlab-test",
  user: { id: 3, name: "User", username: "user", email: "user@gitlab.com" },
  commit: {
    id: 2366,
    name: "Build pipeline",
    sha: "2293ada6b400935a1378653304eaf6221e0fdb8f",
    status: "running",
  },
  repository: {
    name: "gitlab_test",
    url: "git@192.168.64.1:gitlab-org/gitlab-test.git",
    visibility_level: 20,
  },
  project: { id: projectId, name: "gitlab-test", path_with_namespace: "gitlab-org/gitlab-test" },
  environment: null,
});

/** A Pipeline Hook as GitLab sends it (docs: "Pipeline events"), trimmed. */
const pipelineHook = (projectId: number, pipelineId: number, status = "success") => ({
  object_kind: "pipeline",
  object_attributes: {
    id: pipelineId,
    iid: 12,
    ref: "main",
    tag: false,
    sha: "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
    status,
    detailed_status: "passed",
    stages: ["build", "test", "deploy"],
    created_at: "2016-08-12 15:23:28 UTC",
    finished_at: "2016-08-12 15:26:29 UTC",
    duration: 63,
  },
  user: { id: 1, name: "Administrator", username: "root" },
  project: { id: projectId, name: "Gitlab Test", path_with_namespace: "gitlab-org/gitlab-test" },
  builds: [{ id: 380, stage: "deploy", name: "production", status: "skipped" }],
});

describe("POST /events/gitlab on credbroker dev", () => {
  it("a finished Job Hook ends the job's grants only; its token is then refused", async () => {
    const jobGrant = await issue(CI, "read-reports");
    const stsGrant = await issue(CI, "deploy-web");
    const sibling = await issue({ ...CI, job_id: "381" }, "read-reports");
    const result = await deliverGitlab(dev, "Job Hook", jobHook(15, 31, 380));
    expect(result.status).toBe(200);
    expect([...(result.body["grants"] as string[])].sort()).toEqual([jobGrant, stsGrant].sort());
    expect(JSON.stringify(aws.policyDocument("web-deployer"))).toContain(stsGrant);
    expect(await statusOf(dev, sibling)).toBe("active");
    expect((await exchange(dev, SUB, CI, "read-reports")).status).toBe(403);
    // GitLab's retry of the same event (same X-Gitlab-Event-UUID) does nothing.
    const again = await deliverGitlab(dev, "Job Hook", jobHook(15, 31, 380), { id: result.id });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
  });

  it("a finished Pipeline Hook ends every grant of the pipeline", async () => {
    const claims = { ...CI, pipeline_id: "32" };
    const a = await issue(claims, "read-reports");
    const b = await issue({ ...claims, job_id: "390" }, "read-reports");
    const other = await issue({ ...claims, pipeline_id: "33" }, "read-reports");
    const result = await deliverGitlab(dev, "Pipeline Hook", pipelineHook(15, 32, "failed"));
    expect([...(result.body["grants"] as string[])].sort()).toEqual([a, b].sort());
    expect(await statusOf(dev, other)).toBe("active");
  });

  it("ignores a running job (202) and refuses a wrong or missing token (401), changing nothing", async () => {
    const claims = { ...CI, pipeline_id: "40" };
    const grant = await issue(claims, "read-reports");
    expect(await deliverGitlab(dev, "Job Hook", jobHook(15, 40, 380, "running"))).toMatchObject({
      status: 202,
      body: { ignored: "Job Hook" },
    });
    for (const token of ["wrong-token", null, `${GITLAB_SECRET}x`, GITLAB_SECRET.slice(0, -1)]) {
      const refused = await deliverGitlab(dev, "Job Hook", jobHook(15, 40, 380), { token });
      expect(refused).toMatchObject({ status: 401, body: { error: "invalid_signature" } });
    }
    expect(await statusOf(dev, grant)).toBe("active");
    expect((await exchange(dev, SUB, claims, "read-reports")).status).toBe(200);
  });
});

/** `credbroker events put FILE` in-process, on the dev server's own table and config. */
async function putEvent(
  event: unknown,
): Promise<{ findings: { findingId: string; outcome: string; grants: string[] }[] }> {
  const file = join(dataDir, `event-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, JSON.stringify(event));
  let out = "";
  await eventsCommand(
    ["put", file],
    { out: (t) => (out += t), err: () => {}, env: {} },
    async () => dev.deps,
  );
  return JSON.parse(out);
}

/** A GuardDuty finding as EventBridge delivers it, about an assumed-role session. */
const guardDuty = (id: string, principalId: string, accessKeyId = "ASIAQEXAMPLE00000000", severity = 8) => ({
  version: "0",
  id: `eb-${id}`,
  "detail-type": "GuardDuty Finding",
  source: "aws.guardduty",
  account: "111122223333",
  time: new Date().toISOString(),
  region: "us-east-1",
  resources: [],
  detail: {
    schemaVersion: "2.0",
    accountId: "111122223333",
    region: "us-east-1",
    id,
    arn: `arn:aws:guardduty:us-east-1:111122223333:detector/x/finding/${id}`,
    type: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    severity,
    resource: {
      resourceType: "AccessKey",
      accessKeyDetails: { accessKeyId, principalId, userName: "web-deployer", userType: "AssumedRole" },
    },
    service: { serviceName: "guardduty", count: 1 },
  },
});

describe("credbroker events put (findings)", () => {
  it("a GuardDuty finding naming a broker session revokes it and flags the workload", async () => {
    const stsGrant = await issue({ repository: "acme/web", ref: "refs/heads/main" }, "deploy-web");
    const bystander = await issue({ repository: "acme/web", ref: "refs/heads/main" }, "read-reports");
    const result = await putEvent(guardDuty("f-1", `AROAQEXAMPLEROLEID:cb-${stsGrant}`));
    expect(result.findings).toEqual([
      expect.objectContaining({ findingId: "f-1", outcome: "revoked", grants: [stsGrant] }),
    ]);
    expect(await dev.deps.store.getGrant(stsGrant)).toMatchObject({ status: "revoked", reason: "finding" });
    expect(JSON.stringify(aws.policyDocument("web-deployer"))).toContain(stsGrant);
    expect(await dev.deps.store.getSignals("web-ci")).toMatchObject({
      finding: "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    });
    // The demo policies forbid a flagged workload: its other grants end, and nothing more is issued.
    expect(await statusOf(dev, bystander)).toBe("revoked");
    const next = await exchange(dev, SUB, { repository: "acme/web", ref: "refs/heads/main" }, "read-reports");
    expect(next.status).toBe(403);
    // The same finding again (EventBridge redelivers, GuardDuty updates it) is ignored.
    expect((await putEvent(guardDuty("f-1", `AROAQEXAMPLEROLEID:cb-${stsGrant}`))).findings[0]?.outcome).toBe(
      "duplicate",
    );
    await dev.deps.store.clearSignals("web-ci", ["finding"], Date.now());
  });

  it("a finding that names only a grant's access key finds the grant", async () => {
    const issued = await exchange(dev, SUB, { repository: "acme/web", ref: "refs/heads/main" }, "deploy-web");
    const keyId = (issued.body["credentials"] as { AccessKeyId: string }).AccessKeyId;
    const result = await putEvent(guardDuty("f-2", "AROAQEXAMPLEROLEID:someone-else", keyId));
    expect(result.findings[0]).toMatchObject({ outcome: "revoked", grants: [issued.body["grant_id"]] });
    await dev.deps.store.clearSignals("web-ci", ["finding"], Date.now());
  });

  it("a finding about an unknown session, or below minSeverity, is audited as ignored and changes nothing", async () => {
    const grant = await issue({ repository: "acme/web", ref: "refs/heads/main" }, "deploy-web");
    const unknown = await putEvent(guardDuty("f-3", "AROAQEXAMPLEROLEID:cb-01m00000000000000000000000"));
    expect(unknown.findings[0]?.outcome).toBe("ignored");
    const low = await putEvent(guardDuty("f-4", `AROAQEXAMPLEROLEID:cb-${grant}`, "ASIAQEXAMPLE00000000", 2));
    expect(low.findings[0]?.outcome).toBe("ignored");
    expect(await statusOf(dev, grant)).toBe("active");
    expect(await dev.deps.store.getSignals("web-ci")).toEqual({});
    const audit = await dev.deps.store.listAudit({
      sinceMs: Date.now() - 60_000,
      untilMs: Date.now() + 60_000,
    });
    expect(
      audit.items
        .filter((e) => e.kind === "event" && e.outcome === "ignored")
        .map((e) => e.deliveryId)
        .sort(),
    ).toEqual(["f-3", "f-4"]);
  });

  it("a Security Hub finding (ASFF) naming a broker session revokes it", async () => {
    const grant = await issue({ repository: "acme/web", ref: "refs/heads/main" }, "deploy-web");
    const result = await putEvent({
      version: "0",
      id: "eb-sh-1",
      "detail-type": "Security Hub Findings - Imported",
      source: "aws.securityhub",
      account: "111122223333",
      region: "us-east-1",
      detail: {
        findings: [
          {
            SchemaVersion: "2018-10-08",
            Id: "arn:aws:securityhub:us-east-1:111122223333:finding/sh-1",
            ProductArn: "arn:aws:securityhub:us-east-1::product/aws/guardduty",
            Types: ["TTPs/Initial Access/UnauthorizedAccess:IAMUser-ConsoleLoginSuccess.B"],
            Severity: { Label: "HIGH", Normalized: 70 },
            Resources: [
              {
                Type: "AwsIamAccessKey",
                Id: "AWS::IAM::AccessKey:ASIAQEXAMPLE11111111",
                Details: {
                  AwsIamAccessKey: {
                    PrincipalId: `AROAQEXAMPLEROLEID:cb-${grant}`,
                    PrincipalType: "AssumedRole",
                  },
                },
              },
            ],
          },
        ],
      },
    });
    expect(result.findings[0]).toMatchObject({ outcome: "revoked", grants: [grant] });
    await dev.deps.store.clearSignals("web-ci", ["finding"], Date.now());
  });

  it("runs as `credbroker events put FILE` against dev's table through the exports it prints", async () => {
    const file = join(dataDir, "unknown-session.json");
    await writeFile(
      file,
      JSON.stringify(guardDuty("f-cli", "AROAQEXAMPLEROLEID:cb-01m00000000000000000000001")),
    );
    const run = await runCli(
      ["events", "put", file],
      cleanEnv({
        CREDBROKER_CONFIG: dev.configPath,
        CREDBROKER_TABLE: dev.tableName,
        AWS_ENDPOINT_URL_DYNAMODB: dev.dynamo.endpoint,
      }),
    );
    expect(run.code, run.stderr).toBe(0);
    // stderr carries the audit event as a JSON log line, as for `signals`.
    expect(run.stderr).toContain('"outcome":"ignored"');
    expect(JSON.parse(run.stdout)).toEqual({
      findings: [expect.objectContaining({ findingId: "f-cli", outcome: "ignored", grants: [] })],
    });
  });
});
