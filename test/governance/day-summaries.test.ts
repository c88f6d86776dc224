// The report read by the day: a history of several days made through the real token path, swept, then
// reported from the day summaries and from every raw event — the same JSON, number for number. Racing
// summary writes count once; an event that lands after its day was summarised is still counted.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { TASK_ENDED_REASON } from "../../lib/core/events/end-task.ts";
import { DAY_MS, dayOf, summariseDay } from "../../lib/core/report/day-summary.ts";
import { exceptionPolicyIds } from "../../lib/core/report/from-counts.ts";
import { reportFromStore } from "../../lib/core/report/gather.ts";
import type { GovernanceReport } from "../../lib/core/report/report-types.ts";
import { type PeriodReadStats, summariseClosedDays } from "../../lib/core/report/summaries.ts";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  NOW,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";
import { capture } from "./capture.ts";
import { writeConfig } from "./seed.ts";

const HOUR = 3_600_000;
const DAYS = 6;
const START = Math.floor(NOW / DAY_MS) * DAY_MS - DAYS * DAY_MS; // midnight, DAYS days before today

const POLICIES = `${BASE_POLICIES}
@id("docs-deploys")
@exception("SEC-9")
@expires("${new Date(NOW + 60 * DAY_MS).toISOString().replace(".000Z", "Z")}")
permit (principal == Workload::"docs-ci", action == Action::"issue", resource == Task::"deploy-docs");

@id("docs-reads")
permit (principal == Workload::"docs-ci", action == Action::"issue", resource == Task::"read-reports");

@id("docs-reads-too")
@exception("SEC-10")
@expires("${new Date(NOW + 3 * DAY_MS).toISOString().replace(".000Z", "Z")}")
permit (principal == Workload::"docs-ci", action == Action::"issue", resource == Task::"read-reports");
`;

let broker: TestBroker;
let configPath: string;
const TABLE = `summaries${process.pid}`;
/** Another writer or sweeper on the same table. */
const storeOnTable = async (clock?: () => number) =>
  new DynamoGrantStore({
    client: (await sharedDynamo()).client,
    tableName: TABLE,
    ...(clock ? { clock } : {}),
  });
const deps = () => broker.deps;

function config(issuer: TestBroker["issuer"]) {
  const base = baseConfig(issuer);
  return {
    ...base,
    workloads: [
      ...(base["workloads"] as unknown[]),
      { name: "docs-ci", issuer: "test", subject: "repo:acme/docs:**" },
    ],
    tasks: [
      ...(base["tasks"] as unknown[]),
      {
        name: "deploy-docs",
        provider: "jwt",
        audience: "https://docs.test",
        scopes: ["docs:write"],
        maxDurationSeconds: 600,
        sensitivity: "medium",
      },
    ],
  };
}

async function token(sub: string, claims: Record<string, unknown> = {}) {
  return broker.issuer.mint({ sub, ...claims }, { nowMs: broker.clock.now() });
}

/** One day of traffic at `dayStart`, through POST /token and /revoke, the console's revoke and the sweep. */
/** A grant issued just before midnight, released by its workload just after: a life across two days. */
let overnight: string | undefined;

async function day(dayStart: number, n: number, sweepAt = dayStart + 22 * HOUR) {
  const web = () => token("repo:acme/web:ref:refs/heads/main", { repository: "acme/web" });
  broker.clock.set(dayStart + 2 * 60_000);
  if (overnight) await broker.call("revoke", { token: overnight, subject_token: await web() });
  overnight = undefined;
  // A task's end from its CI system (CONTRACT §13), one delivery recorded on two days (a redelivery).
  await broker.store.putAudit({
    eventId: `task-end-${n}`,
    time: new Date(dayStart + 3 * 60_000).toISOString(),
    kind: "event",
    outcome: "revoke",
    actor: "github",
    deliveryId: `delivery-${Math.floor(n / 2)}`,
    reasons: [TASK_ENDED_REASON],
  });
  broker.clock.set(dayStart + 2 * HOUR + n * 60_000);
  const issued: string[] = [];
  // One more on the third day, so that periods with an odd and an even number of durations both occur.
  for (let i = 0; i <= n + (n === 3 ? 1 : 0); i++) {
    const res = await broker.exchange(await web(), {
      duration_seconds: String(60 + ((i * 37 + n * 11) % 240)),
    });
    expect(res.status).toBe(200);
    issued.push(String(res.body["grant_id"]));
    broker.clock.advance(61_000);
  }
  // The workload releases its first grant; an admin revokes the second.
  await broker.call("revoke", { token: issued[0]!, subject_token: await web() });
  const second = await broker.store.getGrant(issued[1] ?? issued[0]!);
  if (second?.status === "active")
    await revokeGrant(deps(), second, { reason: `incident INC-${n % 2}`, kind: "admin", actor: "test" });
  // An exception grant: once alone (deploy-docs), once beside a permit (read-reports).
  const docs = () => token("repo:acme/docs:ref:refs/heads/main");
  expect((await broker.exchange(await docs(), { scope: "deploy-docs" })).status).toBe(200);
  if (n % 2 === 0) expect((await broker.exchange(await docs())).status).toBe(200);
  // Denials: a forbidden purpose, an unregistered subject, a disabled workload (the last twice on odd days).
  expect((await broker.exchange(await web(), { purpose: "exfiltrate" })).status).toBe(403);
  expect((await broker.exchange(await token(`repo:evil/x${n % 3}`))).status).toBe(403);
  for (let i = 0; i < 1 + (n % 2); i++)
    expect((await broker.exchange(await token("repo:acme/old:main"))).status).toBe(403);
  // An unknown task fails before any decision.
  expect((await broker.exchange(await web(), { scope: "nope" })).status).toBe(400);
  // Late in the day the sweep expires what ran out.
  broker.clock.set(sweepAt + n * 1_000);
  await sweepDue(deps());
  if (sweepAt === dayStart + 22 * HOUR) {
    broker.clock.set(dayStart + DAY_MS - 2 * 60_000);
    const res = await broker.exchange(await web(), { duration_seconds: "300" });
    expect(res.status).toBe(200);
    overnight = String(res.body["grant_id"]);
  }
}

/** The store as a reader without summaries sees it: every event of the period, read from the audit trail. */
const withoutSummaries = (store: GrantStore): GrantStore =>
  Object.create(store, { governance: { value: undefined } }) as GrantStore;

async function reportJson(store: GrantStore, nowMs: number, args: string[] = []): Promise<GovernanceReport> {
  const io = capture();
  await reportCommand(
    ["--config", configPath, "--json", ...args],
    io,
    async () => store,
    () => nowMs,
  );
  return JSON.parse(io.stdout()) as GovernanceReport;
}

async function resolvedFromFile() {
  const r = await loadConfigFile(configPath);
  return { config: r.config, policies: r.policies, configVersion: r.version };
}

beforeAll(async () => {
  await ensureTable((await sharedDynamo()).client, TABLE);
  broker = await createTestBroker({
    config: config as never,
    policies: POLICIES,
    store: await storeOnTable(),
  });
  const { issuer } = broker;
  configPath = await writeConfig(config(issuer), POLICIES);
  for (let d = 0; d < DAYS; d++) await day(START + d * DAY_MS, d + 1);
  // Today, before NOW: a little more traffic, not yet summarised.
  await day(START + DAYS * DAY_MS, 7, NOW - HOUR);
  broker.clock.set(NOW);
  await sweepDue(deps());
}, 120_000);

afterAll(async () => {
  await closeSharedDynamo();
});

describe("the report from day summaries", () => {
  it("gives every number that reading every event gives, and reads closed days from their summaries", async () => {
    const fromEvents = await reportJson(withoutSummaries(broker.store), NOW);
    const first = await reportJson(broker.store, NOW);
    // The first report summarises the closed days the sweep had not (it summarises the last two).
    const stats: PeriodReadStats = { summariesUsed: 0, daysReadFromEvents: 0, summariesWritten: 0 };
    const second = await reportFromStore(
      broker.store,
      await resolvedFromFile(),
      { sinceMs: Date.parse(fromEvents.period.since), nowMs: NOW },
      undefined,
      stats,
    );
    expect(first).toEqual(fromEvents);
    expect(JSON.parse(JSON.stringify(second))).toEqual(fromEvents);
    // 30 closed days from their summaries (most of them empty), today from its events.
    expect(stats).toEqual({ summariesUsed: 30, daysReadFromEvents: 1, summariesWritten: 0 });
    // The history is not trivial: every counted section has something in it.
    expect(fromEvents.activity.issued).toBeGreaterThan(30);
    expect(fromEvents.activity.released).toBeGreaterThan(0);
    expect(fromEvents.activity.expired).toBeGreaterThan(0);
    expect(fromEvents.activity.revoked.byReason.length).toBeGreaterThan(2);
    expect(
      fromEvents.activity.byTask.find((t) => t.task === "read-reports")?.medianDurationSeconds,
    ).not.toBeNull();
    expect(fromEvents.denials.byWorkload.map((w) => w.workload)).toEqual(
      expect.arrayContaining(["old-job", "web-ci", "unregistered:repo:evil/x0"]),
    );
    const docs = fromEvents.exceptions.items.find((i) => i.id === "docs-deploys")!;
    expect(docs.grants.count).toBe(DAYS + 1);
    expect(docs.grants.onlyThisException).toBe(DAYS + 1);
    expect(fromEvents.exceptions.items.find((i) => i.id === "docs-reads-too")!.grants).toMatchObject({
      count: 3,
      onlyThisException: 0,
    });
    expect(fromEvents.activity.byDay.filter((d) => d.issued > 0)).toHaveLength(DAYS + 1);
    expect(
      fromEvents.activity.byTask.find((t) => t.task === "read-reports")?.medianLivedSeconds,
    ).not.toBeNull();
    // Seven task-end events, of four deliveries (most recorded on two days).
    expect(fromEvents.taskEnd).toMatchObject({ events: 4, grantsEnded: DAYS + 1 });
  });

  it("reads a period that starts inside a day from that day's events, with the same numbers", async () => {
    const since = new Date(START + DAY_MS + 13 * HOUR).toISOString();
    const fromEvents = await reportJson(withoutSummaries(broker.store), NOW, ["--since", since]);
    expect(await reportJson(broker.store, NOW, ["--since", since])).toEqual(fromEvents);
    expect(fromEvents.period.since).toBe(since);
  });

  it("gives the same numbers at any time of the days that follow", async () => {
    for (const at of [NOW + 3 * HOUR, NOW + DAY_MS + 30 * 60_000, NOW + 2 * DAY_MS + 2 * HOUR]) {
      const fromEvents = await reportJson(withoutSummaries(broker.store), at, ["--days", "7"]);
      expect(await reportJson(broker.store, at, ["--days", "7"])).toEqual(fromEvents);
    }
  });

  it("writes a day's summary once when sweeps race, and counts the day once", async () => {
    // A fresh table: yesterday's traffic through the token path, then two whole sweeps at once.
    const table = `race${process.pid}`;
    await ensureTable((await sharedDynamo()).client, table);
    const store = new DynamoGrantStore({ client: (await sharedDynamo()).client, tableName: table });
    const other = await createTestBroker({ config: config as never, policies: POLICIES, store });
    other.clock.set(NOW - DAY_MS);
    for (let i = 0; i < 5; i++) {
      const t = await other.issuer.mint(
        { sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" },
        { nowMs: other.clock.now() },
      );
      expect((await other.exchange(t)).status).toBe(200);
    }
    other.clock.set(NOW);
    const runs = await Promise.all([sweepDue(other.deps), sweepDue(other.deps)]);
    // Yesterday and the day before (the sweep's look-back), each written by one of the two.
    expect(runs.reduce((n, r) => n + (r.daySummaries ?? 0), 0)).toBe(2);
    expect(await other.store.governance.getDays(dayOf(NOW - 2 * DAY_MS), dayOf(NOW - DAY_MS))).toHaveProperty(
      "size",
      2,
    );
    // Two writers that both found no item: one write lands.
    const ctx = { exceptionPolicyIds: exceptionPolicyIds(other.resolved.policies) };
    const racing = await Promise.all(
      [1, 2].map(() =>
        store.governance.putDaySummary("2000-01-01", summariseDay("2000-01-01", [], ctx), undefined),
      ),
    );
    expect(racing.sort()).toEqual([false, true]);
    // The report reads yesterday from its summary and counts its five grants once.
    const stats: PeriodReadStats = { summariesUsed: 0, daysReadFromEvents: 0, summariesWritten: 0 };
    const fromSummaries = await reportFromStore(
      store,
      await resolvedFromFile(),
      { sinceMs: NOW - 3 * DAY_MS, nowMs: NOW },
      undefined,
      stats,
    );
    const fromEvents = await reportFromStore(withoutSummaries(store), await resolvedFromFile(), {
      sinceMs: NOW - 3 * DAY_MS,
      nowMs: NOW,
    });
    expect(fromSummaries).toEqual(fromEvents);
    expect(fromSummaries.activity.issued).toBe(5);
    expect(stats.summariesUsed).toBe(2);
  });

  it("counts an event that lands after its day was summarised", async () => {
    // A writer whose clock says the event's day closed long ago (a stalled request, a skewed host).
    const late = await storeOnTable(() => NOW);
    const before = await reportJson(broker.store, NOW);
    const event: AuditEvent = {
      eventId: "late-event-1",
      time: new Date(START + DAY_MS + 23 * HOUR + 59 * 60_000).toISOString(),
      kind: "token",
      outcome: "issue",
      workload: "web-ci",
      task: "read-reports",
      policyIds: ["ci-reads-reports"],
      durationSeconds: 77,
      grantId: "g-late",
    };
    await late.putAudit(event);
    const fromEvents = await reportJson(withoutSummaries(broker.store), NOW);
    const after = await reportJson(broker.store, NOW);
    expect(after).toEqual(fromEvents);
    expect(after.activity.issued).toBe(before.activity.issued + 1);
    // The next sweep summarises the day again; from then on it is read from its summary once more.
    await summariseClosedDays(broker.store, broker.resolved.policies, {
      nowMs: NOW,
      deadlineMs: NOW + 60_000,
      now: () => NOW,
      lookbackDays: 30,
    });
    const stats: PeriodReadStats = { summariesUsed: 0, daysReadFromEvents: 0, summariesWritten: 0 };
    const again = await reportFromStore(
      broker.store,
      await resolvedFromFile(),
      { sinceMs: Date.parse(after.period.since), nowMs: NOW },
      undefined,
      stats,
    );
    expect(JSON.parse(JSON.stringify(again))).toEqual(after);
    expect(stats.daysReadFromEvents).toBe(1);
  });
});
