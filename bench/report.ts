// Figure (CONTRACT §18): `credbroker report --json` over 30 days holding 3,000,000 audit events against the
// same with 30,000 (same workloads, tasks and policies; the same 1,000 events so far today in both). The
// closed days are read from their day summaries, so the report's reads follow the days and today's events,
// not the period's events. Seeding: the small table holds its 30,000 events (and the bench checks that its
// report from summaries equals its report from every event); for the large one the summaries of the 3
// million generated events are written directly (summariseDay over each generated day, the sweep's own
// code), since writing 3 million items into dynalite would take hours. The report reads them as in production.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AttributeValue, DynamoDBClient, PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import { stringify } from "yaml";
import { DynamoGrantStore } from "../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../lib/aws/table-definition.ts";
import type { CliIo } from "../lib/cli/io.ts";
import { reportCommand } from "../lib/cli/report.ts";
import { loadConfigFile } from "../lib/config/load.ts";
import type { AuditEvent } from "../lib/core/audit.ts";
import { DAY_MS, dayOf, summariseDay } from "../lib/core/report/day-summary.ts";
import { exceptionPolicyIds } from "../lib/core/report/from-counts.ts";
import type { GrantStore } from "../lib/core/store.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { batchWrite } from "./seed.ts";
import { median, round } from "./stats.ts";

export interface ReportFigures {
  reportMs30k: number;
  reportMs3M: number;
  reportScalingRatio: number;
  reportItemsRead30k: number;
  reportItemsRead3M: number;
  /** Events in the two periods (3,000,000 and 30,000 unless --quick). */
  reportEventsLarge: number;
  reportEventsSmall: number;
  reportSeedMs3M: number;
}

const DAYS = 30;
const TODAY_EVENTS = 1_000;
const WORKLOADS = 50;
const TASKS = 10;

const CONFIG = {
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.bench",
  issuers: [{ name: "ci", issuer: "https://issuer.bench", jwksUri: "https://issuer.bench/jwks" }],
  workloads: Array.from({ length: WORKLOADS }, (_, i) => ({
    name: `w${String(i).padStart(2, "0")}`,
    issuer: "ci",
    subject: `repo:acme/w${String(i).padStart(2, "0")}:**`,
    ...(i % 7 === 0 ? {} : { owner: `team-${i}@acme.example` }),
  })),
  tasks: Array.from({ length: TASKS }, (_, i) => ({
    name: `task-${i}`,
    provider: "jwt",
    audience: `https://t${i}.acme.example`,
    scopes: [`t${i}:read`],
    maxDurationSeconds: 3600,
    sensitivity: "low",
  })),
  policies: ["policies/*.cedar"],
};
const POLICIES = `@id("everyone") permit (principal, action == Action::"issue", resource);
@id("task-9-exception") @exception("SEC-1") @expires("2099-01-01T00:00:00Z")
permit (principal, action == Action::"issue", resource == Task::"task-9");
`;

/** A day's events, oldest first (as the store reads them back), the same mix at every size. */
function dayEvents(dayStart: number, n: number, idPrefix: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  /** Grants issued and not yet ended, oldest first: each end event ends the oldest (its own task, workload). */
  const open: { grantId: string; workload: string; task: string }[] = [];
  let next = 0;
  const ending = () => (next < open.length ? open[next++] : undefined);
  for (let i = 0; i < n; i++) {
    const r = (i * 2_654_435_761) >>> 0;
    const w = `w${String(r % WORKLOADS).padStart(2, "0")}`;
    const task = `task-${(r >>> 8) % TASKS}`;
    const time = new Date(dayStart + Math.floor((i * DAY_MS) / n)).toISOString();
    const eventId = `${idPrefix}${String(i).padStart(7, "0")}`;
    const pick = r % 100;
    const base = { eventId, time, workload: w, task, kind: "token" as const };
    const end = pick >= 40 && pick < 80 ? ending() : undefined;
    const ends = end ? { ...base, workload: end.workload, task: end.task, grantId: end.grantId } : base;
    if (pick < 40) {
      open.push({ grantId: `g${eventId}`, workload: w, task });
      // Exceptions are rare: one task-9 grant in a hundred is decided with the exception, a tenth of those
      // by the exception alone. (Each such grant's id is listed in the report, as the contract asks.)
      const exception = task === "task-9" && (r >>> 16) % 100 === 0;
      const only = exception && (r >>> 24) % 10 === 0;
      out.push({
        ...base,
        outcome: "issue",
        grantId: `g${eventId}`,
        policyIds: only ? ["task-9-exception"] : exception ? ["everyone", "task-9-exception"] : ["everyone"],
        durationSeconds: 60 * (1 + ((r >>> 4) % 60)),
      });
    } else if (pick < 65) out.push({ ...ends, kind: "sweep", outcome: "expire", reasons: ["expired"] });
    else if (pick < 75) out.push({ ...ends, kind: "revoke", outcome: "release", reasons: ["released"] });
    else if (pick < 80)
      out.push({ ...ends, kind: "admin", outcome: "revoke", reasons: [`incident ${r % 5}`] });
    else if (pick < 92)
      out.push({ ...base, outcome: "deny", errorCode: "policy_denied", reasons: [`forbidden by p${r % 4}`] });
    else if (pick < 95) {
      const { workload: _w, ...rest } = base;
      out.push({
        ...rest,
        outcome: "deny",
        subject: `repo:evil/x${r % 20}`,
        issuer: "ci",
        errorCode: "unregistered_workload",
      });
    } else if (pick < 97)
      out.push({ ...base, kind: "sweep", outcome: "fail", reasons: ["abandoned while issuing"] });
    else out.push({ ...base, outcome: "error", errorCode: "subject_token_expired" });
  }
  return out;
}

/** The items putAudit would write, captured instead of sent (as seed.ts does for grants). */
async function auditItems(tableName: string, events: AuditEvent[]) {
  const items: Record<string, AttributeValue>[] = [];
  const capture = {
    send: async (command: { input: PutItemCommandInput }) => {
      items.push(command.input.Item!);
      return {};
    },
  } as unknown as DynamoDBClient;
  const store = new DynamoGrantStore({ client: capture, tableName });
  for (const e of events) await store.putAudit(e);
  return items;
}

const quietIo = (): CliIo & { text: () => string } => {
  let out = "";
  return {
    out: (t) => {
      out += t;
    },
    err: () => {},
    env: {},
    text: () => out,
  };
};

async function oneSize(
  perDay: number,
  rounds: number,
  configPath: string,
  nowMs: number,
  writeEvents: boolean,
): Promise<{ ms: number; itemsRead: number; seedMs: number }> {
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `report-${perDay}`;
    await ensureTable(dynamo.client, tableName);
    let itemsRead = 0;
    const store = new DynamoGrantStore({ client: dynamo.client, tableName, onRead: (n) => (itemsRead += n) });
    const resolved = await loadConfigFile(configPath);
    const ctx = { exceptionPolicyIds: exceptionPolicyIds(resolved.policies) };
    const todayStart = Math.floor(nowMs / DAY_MS) * DAY_MS;
    const t0 = performance.now();
    for (let d = DAYS; d >= 1; d--) {
      const start = todayStart - d * DAY_MS;
      const events = dayEvents(start, perDay, `e${d}-`);
      if (writeEvents) await batchWrite(dynamo.client, tableName, await auditItems(tableName, events));
      // The summary the sweep would write for this day, from the same events.
      const day = dayOf(start);
      if (!(await store.governance.putDaySummary(day, summariseDay(day, events, ctx), undefined)))
        throw new Error(`summary of ${day} not written`);
    }
    const today = dayEvents(todayStart, TODAY_EVENTS, "t-").filter((e) => Date.parse(e.time) <= nowMs);
    await batchWrite(dynamo.client, tableName, await auditItems(tableName, today));
    const seedMs = performance.now() - t0;

    const report = async (s: GrantStore) => {
      const io = quietIo();
      await reportCommand(
        ["--config", configPath, "--json"],
        io,
        async () => s,
        () => nowMs,
      );
      return io.text();
    };
    if (writeEvents) {
      // The small table also holds its events: the report from summaries must equal the one from events.
      const raw = Object.create(store, { governance: { value: undefined } }) as GrantStore;
      if ((await report(raw)) !== (await report(store)))
        throw new Error("the report from day summaries differs from the report from every event");
    }
    await report(store); // warm-up
    const times: number[] = [];
    let reads = 0;
    for (let r = 0; r < rounds; r++) {
      itemsRead = 0;
      const t1 = performance.now();
      await report(store);
      times.push(performance.now() - t1);
      reads = itemsRead;
    }
    return { ms: median(times), itemsRead: reads, seedMs };
  } finally {
    await dynamo.close();
  }
}

export async function benchReport(options: { large?: number; rounds?: number } = {}): Promise<ReportFigures> {
  const large = options.large ?? 3_000_000;
  const small = 30_000;
  const rounds = options.rounds ?? 5;
  const dir = await mkdtemp(join(tmpdir(), "credbroker-bench-report-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "bench.cedar"), POLICIES);
  const configPath = join(dir, "broker.config.yaml");
  await writeFile(configPath, stringify(CONFIG));
  // Today at 12:00 UTC: half of today's events have happened.
  const nowMs = Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS / 2;
  // The first table of the process warms the JIT for the whole report path; it is not counted.
  await oneSize(small / DAYS, 1, configPath, nowMs, false);
  const s = await oneSize(small / DAYS, rounds, configPath, nowMs, true);
  const l = await oneSize(large / DAYS, rounds, configPath, nowMs, false);
  return {
    reportMs30k: round(s.ms, 1),
    reportMs3M: round(l.ms, 1),
    reportScalingRatio: round(l.ms / s.ms, 3),
    reportItemsRead30k: s.itemsRead,
    reportItemsRead3M: l.itemsRead,
    reportEventsLarge: large,
    reportEventsSmall: small,
    reportSeedMs3M: round(l.seedMs, 0),
  };
}
