// `credbroker report` over a seeded table and config: each section with known counts, the JSON shape,
// the Markdown and table renderings, and reads by key only.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import type { GovernanceReport } from "../../lib/core/report/report-types.ts";
import { closeSharedDynamo, NOW, newStore } from "../support/broker.ts";
import { capture } from "./capture.ts";
import { DAY, grant, seedStore, writeConfig } from "./seed.ts";

let store: DynamoGrantStore;
let configPath: string;
let reads = 0;
let report: GovernanceReport;

beforeAll(async () => {
  store = await newStore({
    onRead: (n) => {
      reads += n;
    },
  });
  await seedStore(store);
  configPath = await writeConfig();
  reads = 0;
  const io = capture();
  await reportCommand(
    ["--config", configPath, "--json"],
    io,
    async () => store,
    () => NOW,
  );
  report = JSON.parse(io.stdout()) as GovernanceReport;
});

afterAll(async () => {
  await closeSharedDynamo();
});

describe("credbroker report", () => {
  it("covers the last 30 days by default, from the start of that UTC day (whole days read by the day)", () => {
    expect(report.period).toEqual({
      since: "2026-10-31T00:00:00.000Z",
      until: new Date(NOW).toISOString(),
      days: 30.4,
    });
    expect(report.generatedAt).toBe(new Date(NOW).toISOString());
    expect(report.configVersion).toMatch(/^[0-9a-f]{16}$/);
  });

  it("reads the period's audit events and one grant per workload, without scanning the table", () => {
    // 21 events in the period (the one 40 days old is not read) + the newest grant of the 3 workloads that have one.
    expect(reads).toBe(21 + 3);
  });

  it("lists orphaned, disabled and idle workloads", () => {
    const w = report.workloads;
    expect(w.total).toBe(5);
    expect(w.orphaned.map((o) => o.name)).toEqual(["legacy-cron", "ghost"]);
    expect(w.disabled.map((o) => o.name)).toEqual(["old-agent"]);
    expect(w.idle.map((o) => [o.name, o.lastGrantAt])).toEqual([
      ["reports-job", new Date(NOW - 40 * DAY).toISOString().replace(".000Z", "Z")],
      ["ghost", null],
    ]);
  });

  it("classifies exceptions as open, expiring or expired, with the grants each allowed", () => {
    const x = report.exceptions;
    expect({ total: x.total, open: x.open, expiring: x.expiring, expired: x.expired }).toEqual({
      total: 3,
      open: 2,
      expiring: 1,
      expired: 1,
    });
    const byId = Object.fromEntries(x.items.map((i) => [i.id, i]));
    expect(byId["old-exception"]).toMatchObject({
      ticket: "SEC-3",
      status: "expired",
      daysLeft: -3,
      file: "policies/all.cedar",
    });
    expect(byId["old-exception"]?.grants).toMatchObject({
      count: 1,
      onlyThisException: 0,
      workloads: ["web-ci"],
    });
    expect(byId["ghost-deploys"]).toMatchObject({ ticket: "SEC-2", status: "expiring", daysLeft: 5 });
    expect(byId["ghost-deploys"]?.grants.count).toBe(0);
    expect(byId["legacy-cron-reads-reports"]).toMatchObject({
      ticket: "SEC-1",
      status: "open",
      daysLeft: 60,
    });
    expect(byId["legacy-cron-reads-reports"]?.grants).toMatchObject({
      count: 2,
      onlyThisException: 2,
      workloads: ["legacy-cron"],
    });
    expect(byId["legacy-cron-reads-reports"]?.line).toBeGreaterThan(1);
  });

  it("names the broad tasks and the statements that make them broad", () => {
    const byTask = Object.fromEntries(report.broadTasks.map((t) => [t.task, t.findings]));
    expect(Object.keys(byTask).sort()).toEqual(["admin-api", "break-glass", "no-policy"]);
    expect(byTask["admin-api"]).toEqual([{ where: "scopes", reason: "wildcard scope admin:*" }]);
    expect(byTask["break-glass"]).toEqual([
      { where: "Statement[0]", reason: "action * (every action of every service)" },
      { where: "Statement[0]", reason: "resource * (every resource)" },
      { where: "Statement[1] (iam)", reason: "action iam:* (every IAM action)" },
    ]);
    expect(byTask["no-policy"]?.[0]?.reason).toMatch(/no session policy/);
  });

  it("groups denials by workload and reason, matching unrecorded workloads by subject", () => {
    expect(report.denials.total).toBe(7);
    expect(report.denials.byWorkload).toEqual([
      {
        workload: "web-ci",
        count: 4,
        tasks: ["deploy-web", "read-reports"],
        lastAt: new Date(NOW - 60 * 60_000).toISOString(),
        reasons: [
          { reason: "forbidden by sensitive-tasks", count: 3 },
          { reason: "no policy permits this request", count: 1 },
        ],
      },
      {
        workload: "unregistered:repo:evil/x",
        count: 2,
        tasks: ["read-reports"],
        lastAt: new Date(NOW - 5 * 60 * 60_000).toISOString(),
        reasons: [{ reason: "the subject is not a registered workload", count: 2 }],
      },
      {
        workload: "old-agent",
        count: 1,
        tasks: ["read-reports"],
        lastAt: new Date(NOW - 7 * 60 * 60_000).toISOString(),
        reasons: [{ reason: "the workload is disabled", count: 1 }],
      },
    ]);
  });

  it("counts grant activity, revocations by reason, durations and early releases", () => {
    const a = report.activity;
    expect({
      issued: a.issued,
      expired: a.expired,
      revoked: a.revoked.total,
      released: a.released,
      failed: a.failed,
    }).toEqual({
      issued: 6,
      expired: 2,
      revoked: 4,
      released: 2,
      failed: 1,
    });
    expect(a.releasedShare).toBeCloseTo(2 / 6);
    expect(a.revoked.byReason).toEqual([
      { reason: "released", count: 2 },
      { reason: "incident INC-7", count: 1 },
      { reason: "workload quarantined", count: 1 },
    ]);
    expect(a.byTask).toEqual([
      {
        task: "deploy-web",
        issued: 1,
        expired: 1,
        revoked: 1,
        released: 0,
        failed: 1,
        medianDurationSeconds: 900,
        maxDurationSeconds: 900,
        medianLivedSeconds: 300,
        releasedShare: 0,
      },
      {
        task: "read-reports",
        issued: 5,
        expired: 1,
        revoked: 3,
        released: 2,
        failed: 0,
        medianDurationSeconds: 300,
        maxDurationSeconds: 300,
        // Lived 120, 300, 60 and 300 s (the fifth is still active): median 210 s, not the granted 300.
        medianLivedSeconds: 210,
        releasedShare: 0.4,
      },
    ]);
  });

  it("totals denials by reason across workloads, most frequent first", () => {
    expect(report.denials.byReason).toEqual([
      { reason: "forbidden by sensitive-tasks", count: 3 },
      { reason: "the subject is not a registered workload", count: 2 },
      { reason: "no policy permits this request", count: 1 },
      { reason: "the workload is disabled", count: 1 },
    ]);
  });

  it("counts the period's grants per UTC day by outcome, every day present", () => {
    const days = report.activity.byDay;
    expect(days.length).toBe(31); // 30 days back from 10:00 UTC touch 31 calendar days
    expect(days[0]!.day).toBe("2026-10-31");
    expect(days.at(-1)!.day).toBe("2026-11-30");
    const sum = (k: "issued" | "expired" | "revoked" | "released" | "failed" | "denied") =>
      days.reduce((n, d) => n + d[k], 0);
    // The same totals as the activity and denial sections.
    expect([sum("issued"), sum("expired"), sum("released"), sum("failed"), sum("denied")]).toEqual([
      6, 2, 2, 1, 7,
    ]);
    expect(sum("revoked") + sum("released")).toBe(report.activity.revoked.total);
    expect(days.find((d) => d.day === "2026-11-30")!.denied).toBe(7);
    expect(days.find((d) => d.day === "2026-11-25")!.issued).toBe(1);
  });

  it("gives one verdict per criterion, with the gap to its target", () => {
    const v = Object.fromEntries(report.verdicts.map((x) => [x.criterion, x]));
    expect(report.verdicts.map((x) => [x.criterion, x.met, x.actual, x.gap])).toEqual([
      ["orphaned-workloads", false, 2, 2],
      ["disabled-workloads", false, 1, 1],
      ["idle-workloads", false, 2, 2],
      ["expired-exceptions", false, 1, 1],
      ["open-exceptions", false, 2, 2],
      ["exception-grants", false, 2, 2],
      ["broad-tasks", false, 3, 3],
      ["denied-workloads", false, 3, 3],
      ["early-release", false, 33, 17],
    ]);
    expect(v["open-exceptions"]?.summary).toBe(
      "not met: 2 open exceptions (1 expiring within 14 days), 2 over the target of 0",
    );
    expect(v["early-release"]).toMatchObject({ bound: "min", target: 50 });
    expect(v["early-release"]?.summary).toBe(
      "not met: 33% released early (2 of 6), 17 points under the target of 50%",
    );
  });

  it("has the documented JSON shape", () => {
    expect(Object.keys(report)).toEqual([
      "reportVersion",
      "generatedAt",
      "configVersion",
      "period",
      "workloads",
      "exceptions",
      "broadTasks",
      "denials",
      "activity",
      "verdicts",
      "debt",
      "approvals",
      "taskEnd",
    ]);
    expect(Object.keys(report.approvals)).toEqual([
      "pending",
      "approved",
      "denied",
      "lapsed",
      "medianSecondsToDecision",
      "byTask",
    ]);
    expect(report.reportVersion).toBe(1);
    expect(Object.keys(report.workloads)).toEqual(["total", "idleDays", "orphaned", "disabled", "idle"]);
    expect(Object.keys(report.workloads.orphaned[0]!)).toEqual([
      "name",
      "issuer",
      "subject",
      "owner",
      "disabled",
    ]);
    expect(Object.keys(report.exceptions)).toEqual([
      "total",
      "expiringWithinDays",
      "open",
      "expiring",
      "expired",
      "items",
    ]);
    expect(Object.keys(report.exceptions.items[0]!)).toEqual([
      "id",
      "ticket",
      "expiresAt",
      "file",
      "line",
      "status",
      "daysLeft",
      "grants",
    ]);
    expect(Object.keys(report.activity)).toEqual([
      "issued",
      "expired",
      "revoked",
      "released",
      "failed",
      "releasedShare",
      "byTask",
      "byDay",
    ]);
    expect(Object.keys(report.verdicts[0]!)).toEqual([
      "criterion",
      "title",
      "met",
      "actual",
      "target",
      "bound",
      "gap",
      "summary",
    ]);
  });

  it("renders Markdown for a ticket, with a verdict table and one section per criterion", async () => {
    const io = capture();
    await reportCommand(
      ["--config", configPath, "--format", "markdown"],
      io,
      async () => store,
      () => NOW,
    );
    const md = io.stdout();
    expect(md).toMatch(/^# credbroker report\n/);
    expect(md).toContain("| status | criterion | verdict |\n| --- | --- | --- |\n");
    expect(md).toContain("| NOT MET | orphaned-workloads | 2 orphaned workloads, 2 over the target of 0 |");
    for (const h of [
      "## Verdicts",
      "## Workloads (5 configured)",
      "## Exceptions (3: 2 open, 1 expiring within 14 days, 1 expired)",
      "## Broad tasks (3)",
      "## Denials (7 in the period)",
      "## Grant activity",
    ])
      expect(md).toContain(h);
    expect(md).toContain("| legacy-cron-reads-reports | SEC-1 |");
    expect(md).toContain("| break-glass | critical | Statement[1] (iam) | action iam:* (every IAM action) |");
  });

  it("renders a readable table by default", async () => {
    const io = capture();
    await reportCommand(
      ["--config", configPath],
      io,
      async () => store,
      () => NOW,
    );
    const text = io.stdout();
    expect(text).toMatch(/^credbroker report: .* \(30.4 days\)/);
    expect(text).toMatch(/NOT MET\s+early-release\s+33% released early \(2 of 6\)/);
    expect(text).toMatch(/\n {2}web-ci\s+4\s+deploy-web, read-reports\s+3\s+forbidden by sensitive-tasks\n/);
    expect(text).toMatch(/MEDIAN GRANTED S\s+MAX GRANTED S\s+MEDIAN LIVED S\s+RELEASED EARLY/);
    expect(text).toMatch(/read-reports\s+5\s+1\s+3\s+2\s+300\s+300\s+210\s+40%/);
  });

  it("takes the period from --days or --since", async () => {
    const io = capture();
    await reportCommand(
      ["--config", configPath, "--days", "3", "--json"],
      io,
      async () => store,
      () => NOW,
    );
    const r = JSON.parse(io.stdout()) as GovernanceReport;
    expect(r.period.days).toBe(3.4);
    expect(r.activity.issued).toBe(3); // 1 and 2 days ago, and legacy-cron's exactly 3 days ago (the bounds are inclusive)
    const io2 = capture();
    await reportCommand(
      ["--config", configPath, "--since", new Date(NOW - 45 * DAY).toISOString(), "--json"],
      io2,
      async () => store,
      () => NOW,
    );
    expect((JSON.parse(io2.stdout()) as GovernanceReport).activity.issued).toBe(7);
  });

  it("refuses a bad format or period with a usage error", async () => {
    const run = (args: string[]) =>
      reportCommand(
        ["--config", configPath, ...args],
        capture(),
        async () => store,
        () => NOW,
      );
    await expect(run(["--format", "pdf"])).rejects.toMatchObject({ exitCode: 2 });
    await expect(run(["--days", "0"])).rejects.toBeInstanceOf(CliError);
    await expect(run(["--since", "yesterday"])).rejects.toBeInstanceOf(CliError);
  });
});

describe("a finished clean-up", () => {
  it("meets every criterion", async () => {
    const clean = await newStore();
    const config = {
      version: 1,
      audience: "credbroker",
      issuerUrl: "https://broker.test",
      issuers: [{ name: "test", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
      workloads: [
        { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
      ],
      tasks: [
        { name: "read-reports", provider: "jwt", audience: "https://reports.test", scopes: ["reports:read"] },
      ],
      policies: ["policies/*.cedar"],
    };
    const path = await writeConfig(
      config,
      `@id("readers") permit (principal == Workload::"web-ci", action, resource);`,
    );
    await clean.createGrant(grant("web-ci", "read-reports", NOW - DAY), NOW);
    await clean.putAudit({
      eventId: "e1",
      time: new Date(NOW - DAY).toISOString(),
      kind: "token",
      outcome: "issue",
      workload: "web-ci",
      task: "read-reports",
      policyIds: ["readers"],
      durationSeconds: 300,
    });
    await clean.putAudit({
      eventId: "e2",
      time: new Date(NOW - DAY + 60_000).toISOString(),
      kind: "revoke",
      outcome: "release",
      workload: "web-ci",
      task: "read-reports",
      reasons: ["released"],
    });
    const io = capture();
    const r = await reportCommand(
      ["--config", path],
      io,
      async () => clean,
      () => NOW,
    );
    expect(r.verdicts.filter((v) => !v.met)).toEqual([]);
    expect(r.verdicts).toHaveLength(9);
    expect(io.stdout()).not.toContain("NOT MET");
  });
});
