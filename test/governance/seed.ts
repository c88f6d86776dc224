// A seeded governance scenario: a config on disk (workloads, tasks, exceptions) and a table holding a
// known set of grants and audit events, so every report section has counts the tests can state.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { NOW } from "../support/broker.ts";

export const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const isoS = (ms: number) => iso(ms).replace(".000Z", "Z");

export const SEED_POLICIES = `
@id("reports-readers")
permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.name == "web-ci" };

@id("web-deploys")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"deploy-web");

@id("legacy-cron-reads-reports")
@exception("SEC-1")
@expires("${isoS(NOW + 60 * DAY)}")
permit (principal == Workload::"legacy-cron", action == Action::"issue", resource == Task::"read-reports");

@id("ghost-deploys")
@exception("SEC-2")
@expires("${isoS(NOW + 5 * DAY)}")
permit (principal == Workload::"ghost", action == Action::"issue", resource == Task::"deploy-web");

@id("old-exception")
@exception("SEC-3")
@expires("${isoS(NOW - 3 * DAY)}")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"deploy-web");
`;

export const SEED_CONFIG = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "test", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
  workloads: [
    { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
    {
      name: "reports-job",
      issuer: "test",
      subject: "repo:acme/reports:ref:refs/heads/main",
      owner: "team-data@acme.test",
    },
    { name: "legacy-cron", issuer: "test", subject: "system:serviceaccount:batch:legacy-cron" },
    { name: "old-agent", issuer: "test", subject: "agent:old-*", owner: "team-ml@acme.test", disabled: true },
    { name: "ghost", issuer: "test", subject: "ghost" },
  ],
  tasks: [
    {
      name: "read-reports",
      provider: "jwt",
      audience: "https://reports.test",
      scopes: ["reports:read"],
      maxDurationSeconds: 300,
      sensitivity: "low",
    },
    {
      name: "admin-api",
      provider: "jwt",
      audience: "https://admin.test",
      scopes: ["admin:*"],
      maxDurationSeconds: 300,
      sensitivity: "high",
    },
    {
      name: "deploy-web",
      provider: "aws-sts",
      roleArn: "arn:aws:iam::111122223333:role/web-deployer",
      sessionPolicy: {
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-web/*" }],
      },
      maxDurationSeconds: 900,
      sensitivity: "high",
    },
    {
      name: "break-glass",
      provider: "aws-sts",
      roleArn: "arn:aws:iam::111122223333:role/break-glass",
      sessionPolicy: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "*", Resource: "*" },
          { Sid: "iam", Effect: "Allow", Action: ["iam:*"], Resource: "arn:aws:iam::111122223333:role/*" },
          { Effect: "Deny", Action: "*", Resource: "*" },
        ],
      },
      sensitivity: "critical",
    },
    { name: "no-policy", provider: "aws-sts", roleArn: "arn:aws:iam::111122223333:role/whole-role" },
  ],
  policies: ["policies/*.cedar"],
};

/** Writes a config and its policies into a fresh directory; returns the config path. */
export async function writeConfig(
  config: Record<string, unknown> = SEED_CONFIG,
  policies = SEED_POLICIES,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-gov-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "all.cedar"), policies);
  const path = join(dir, "broker.config.yaml");
  await writeFile(path, stringify(config));
  return path;
}

let n = 0;
export function event(minutesAgo: number, e: Partial<AuditEvent> & Pick<AuditEvent, "outcome">): AuditEvent {
  const time = iso(NOW - minutesAgo * 60_000);
  return { eventId: `ev${String(++n).padStart(6, "0")}`, time, kind: "token", ...e };
}

export function grant(workload: string, task: string, issuedAtMs: number): Grant {
  return {
    grantId: `g-${workload}-${issuedAtMs}`,
    workload,
    subject: `sub-of-${workload}`,
    issuer: "test",
    task,
    provider: "jwt",
    status: "issuing",
    issuedAt: isoS(issuedAtMs),
    expiresAt: isoS(issuedAtMs + 300_000),
    policyIds: [],
    sourceIp: "127.0.0.1",
    purpose: "",
    decisionId: `d-${issuedAtMs}`,
    durationSeconds: 300,
    configVersion: "v1",
    subjectTokenSha256: "0".repeat(64),
  };
}

const M = 60; // minutes per hour, for readability
const D = 24 * M; // minutes per day

/** The period's events (30 days before NOW) plus one event outside it. */
export function seedEvents(): { inPeriod: AuditEvent[]; outside: AuditEvent[] } {
  const issue = (ago: number, workload: string, task: string, policyIds: string[], durationSeconds: number) =>
    event(ago, { outcome: "issue", workload, task, policyIds, durationSeconds, grantId: `g${ago}` });
  const inPeriod: AuditEvent[] = [
    issue(1 * D, "web-ci", "read-reports", ["reports-readers"], 300),
    issue(2 * D, "web-ci", "read-reports", ["reports-readers"], 300),
    issue(10 * D, "web-ci", "read-reports", ["reports-readers"], 120),
    issue(3 * D, "legacy-cron", "read-reports", ["legacy-cron-reads-reports"], 300),
    issue(4 * D, "legacy-cron", "read-reports", ["legacy-cron-reads-reports"], 60),
    issue(5 * D, "web-ci", "deploy-web", ["web-deploys", "old-exception"], 900),
    // End events name their grant, so the report can say how long each lived (120, 300, 60, 300 and 300 s).
    event(1 * D - 2, {
      outcome: "release",
      kind: "revoke",
      workload: "web-ci",
      task: "read-reports",
      grantId: `g${1 * D}`,
      reasons: ["released"],
    }),
    event(2 * D - 5, {
      outcome: "release",
      kind: "revoke",
      workload: "web-ci",
      task: "read-reports",
      grantId: `g${2 * D}`,
      reasons: ["released"],
    }),
    event(10 * D - 1, {
      outcome: "revoke",
      kind: "signal",
      workload: "web-ci",
      task: "read-reports",
      grantId: `g${10 * D}`,
      reasons: ["workload quarantined"],
    }),
    event(5 * D - 5, {
      outcome: "revoke",
      kind: "admin",
      workload: "web-ci",
      task: "deploy-web",
      grantId: `g${5 * D}`,
      reasons: ["incident INC-7"],
    }),
    event(3 * D - 5, {
      outcome: "expire",
      kind: "sweep",
      workload: "legacy-cron",
      task: "read-reports",
      grantId: `g${3 * D}`,
      reasons: ["expired"],
    }),
    event(6 * D, {
      outcome: "expire",
      kind: "sweep",
      workload: "web-ci",
      task: "deploy-web",
      reasons: ["expired"],
    }),
    event(7 * D, {
      outcome: "fail",
      kind: "sweep",
      workload: "web-ci",
      task: "deploy-web",
      reasons: ["abandoned while issuing"],
    }),
    ...[1, 2, 3].map((h) =>
      event(h * M, {
        outcome: "deny",
        workload: "web-ci",
        task: "deploy-web",
        errorCode: "policy_denied",
        reasons: ["forbidden by sensitive-tasks"],
      }),
    ),
    event(4 * M, {
      outcome: "deny",
      workload: "web-ci",
      task: "read-reports",
      errorCode: "policy_denied",
      reasons: ["no policy permits this request"],
    }),
    ...[5, 6].map((h) =>
      event(h * M, {
        outcome: "deny",
        subject: "repo:evil/x",
        task: "read-reports",
        errorCode: "unregistered_workload",
        reasons: ["the subject is not a registered workload"],
      }),
    ),
    // Refused before the workload was recorded on the event: the report matches the subject to old-agent.
    event(7 * M, {
      outcome: "deny",
      subject: "agent:old-1",
      issuer: "test",
      task: "read-reports",
      errorCode: "disabled_workload",
      reasons: ["the workload is disabled"],
    }),
    event(30, { outcome: "error", task: "read-reports", errorCode: "subject_token_expired" }),
  ];
  const outside = [issue(40 * D, "reports-job", "read-reports", ["reports-readers"], 300)];
  return { inPeriod, outside };
}

export async function seedStore(
  store: DynamoGrantStore,
): Promise<{ inPeriod: AuditEvent[]; outside: AuditEvent[] }> {
  const seeded = seedEvents();
  for (const e of [...seeded.inPeriod, ...seeded.outside]) await store.putAudit(e);
  // Each workload's newest grant: web-ci yesterday, legacy-cron 3 days ago, reports-job 40 days ago.
  await store.createGrant(grant("web-ci", "read-reports", NOW - 20 * DAY), NOW);
  await store.createGrant(grant("web-ci", "read-reports", NOW - 1 * DAY), NOW);
  await store.createGrant(grant("legacy-cron", "read-reports", NOW - 3 * DAY), NOW);
  await store.createGrant(grant("reports-job", "read-reports", NOW - 40 * DAY), NOW);
  return seeded;
}
