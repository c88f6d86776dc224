// `credbroker audit`: audit events by time range, workload, task and outcome, read by key (no scan):
// the day partitions (each UTC day spread over AUDIT#<day>#<n>), the workload index (WA#<workload>) or the
// task key (TA#<task>).
// `--follow` keeps polling for new events until Ctrl-C.

import { parseArgs } from "node:util";
import type { AuditEvent, AuditOutcome } from "../core/audit.ts";
import type { GrantStore } from "../core/store.ts";
import { CliError } from "./errors.ts";
import { type CliIo, table } from "./io.ts";

/**
 * What `--outcome` accepts. The four words of the report map onto the stored outcomes: a granted request
 * is recorded as `issue` (the decision and the issuance are one event), a self-release as `release`.
 * Any stored outcome is accepted as itself too (issue, release, fail, error, change for a signal change, ...).
 */
const OUTCOME_GROUPS: Record<string, readonly AuditOutcome[]> = {
  allow: ["allow", "issue"],
  deny: ["deny"],
  revoke: ["revoke", "release"],
  expire: ["expire"],
};
// A record over the outcome union, so a new stored outcome fails to compile until it is listed here.
const STORED_OUTCOMES: Record<AuditOutcome, true> = {
  allow: true,
  deny: true,
  error: true,
  issue: true,
  fail: true,
  revoke: true,
  release: true,
  expire: true,
  change: true,
  ignored: true,
  pending: true,
  approve: true,
};
const STORED = Object.keys(STORED_OUTCOMES) as AuditOutcome[];

export function outcomesFor(flag: string | undefined): Set<AuditOutcome> | undefined {
  if (flag === undefined) return undefined;
  const out = new Set<AuditOutcome>();
  for (const word of flag
    .split(",")
    .map((w) => w.trim())
    .filter(Boolean)) {
    const group =
      OUTCOME_GROUPS[word] ?? (STORED.includes(word as AuditOutcome) ? [word as AuditOutcome] : undefined);
    if (!group)
      throw new CliError(
        `--outcome takes ${Object.keys(OUTCOME_GROUPS).join(", ")} or a stored outcome (${STORED.join(", ")})`,
        2,
      );
    for (const o of group) out.add(o);
  }
  return out;
}

/** The period read without --since (and without --workload or --task), counted back from now. */
export const DEFAULT_WINDOW_DAYS = 7;
/** Events written up to this long after their own time (a slow request) are still caught by --follow. */
const FOLLOW_OVERLAP_MS = 60_000;
const COLUMNS = ["time", "outcome", "workload", "task", "grant", "decision", "why"];

function row(e: AuditEvent): Record<string, string> {
  return {
    time: e.time,
    outcome: e.outcome,
    workload: e.workload ?? e.subject ?? "",
    task: e.task ?? "",
    grant: e.grantId ?? "",
    decision: e.decisionId ?? "",
    why: e.errorCode
      ? `${e.errorCode}${e.reasons?.length ? `: ${e.reasons.join("; ")}` : ""}`
      : (e.reasons ?? []).join("; "),
  };
}

export interface AuditCommandOptions {
  now?: () => number;
  /** Ends --follow; the CLI aborts it on SIGINT/SIGTERM. */
  signal?: AbortSignal;
  /** Waits between --follow polls; resolves early when the signal aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });

export async function auditCommand(
  args: string[],
  io: CliIo,
  store: (table?: string) => Promise<GrantStore>,
  options: AuditCommandOptions = {},
): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      since: { type: "string" },
      until: { type: "string" },
      workload: { type: "string" },
      task: { type: "string" },
      outcome: { type: "string" },
      json: { type: "boolean", default: false },
      limit: { type: "string" },
      table: { type: "string" },
      config: { type: "string" },
      follow: { type: "boolean", short: "f", default: false },
      interval: { type: "string", default: "2" },
    },
  });
  const now = options.now ?? Date.now;
  const nowMs = now();
  const outcomes = outcomesFor(values.outcome);
  // Without --since: a workload or task is one index query, so every match from the start of time; across
  // all workloads it is one query per day partition, so the last week (said on stderr), not the retention's
  // 400 days of mostly empty partitions.
  const sinceMs = values.since
    ? Date.parse(values.since)
    : values.follow
      ? nowMs - 5 * 60_000
      : values.workload || values.task
        ? 0
        : nowMs - DEFAULT_WINDOW_DAYS * 86_400_000;
  if (!values.since && !values.follow && !values.workload && !values.task)
    io.err(
      `audit: the last ${DEFAULT_WINDOW_DAYS} days, since ${new Date(sinceMs).toISOString()} (--since ISO for earlier events)\n`,
    );
  const untilMs = values.until ? Date.parse(values.until) : nowMs;
  if (Number.isNaN(sinceMs) || Number.isNaN(untilMs))
    throw new CliError("--since and --until take an ISO 8601 time, e.g. 2026-11-29T00:00:00Z", 2);
  const limit = values.limit ? Number(values.limit) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new CliError("--limit must be a positive whole number", 2);
  if (values.follow && (values.until || limit !== undefined))
    throw new CliError("--follow does not combine with --until or --limit", 2);
  const intervalMs = Number(values.interval) * 1000;
  if (!Number.isFinite(intervalMs) || intervalMs < 100)
    throw new CliError("--interval takes a number of seconds (at least 0.1)", 2);

  const s = await store(values.table);
  const read = async (from: number, to: number, max?: number): Promise<AuditEvent[]> => {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await s.listAudit({
        sinceMs: from,
        untilMs: to,
        ...(values.workload ? { workload: values.workload } : {}),
        ...(values.task ? { task: values.task } : {}),
        ...(cursor ? { cursor } : {}),
      });
      for (const e of page.items) if (!outcomes || outcomes.has(e.outcome)) events.push(e);
      cursor = page.cursor;
    } while (cursor && (max === undefined || events.length < max));
    events.sort((a, b) => a.time.localeCompare(b.time) || a.eventId.localeCompare(b.eventId));
    return max === undefined ? events : events.slice(0, max);
  };

  if (!values.follow) {
    const shown = await read(sinceMs, untilMs, limit);
    io.out(values.json ? `${JSON.stringify(shown, null, 2)}\n` : table(shown.map(row), COLUMNS));
    return;
  }
  await follow(io, read, { sinceMs, intervalMs, json: values.json, now, ...options });
}

/** Polls a sliding window and prints each event once: JSON lines with --json, else one row per event. */
async function follow(
  io: CliIo,
  read: (from: number, to: number) => Promise<AuditEvent[]>,
  o: AuditCommandOptions & { sinceMs: number; intervalMs: number; json: boolean; now: () => number },
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  o.signal?.addEventListener("abort", stop);
  const ownSignals = !o.signal;
  if (ownSignals) {
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  }
  const sleep = o.sleep ?? abortableSleep;
  const seen = new Map<string, string>(); // eventId -> time, pruned as the window moves
  const widths = [24, 8, 16, 16, 26];
  const line = (e: AuditEvent) => {
    const r = row(e);
    const cells = ["time", "outcome", "workload", "task", "grant"].map((c, i) =>
      (r[c] ?? "").padEnd(widths[i]!),
    );
    return `${cells.join("  ")}  ${r["why"]}`.trimEnd();
  };
  if (!o.json)
    io.out(
      `${["TIME", "OUTCOME", "WORKLOAD", "TASK", "GRANT"].map((c, i) => c.padEnd(widths[i]!)).join("  ")}  WHY\n`,
    );
  let from = o.sinceMs;
  try {
    while (!controller.signal.aborted) {
      const polledAt = o.now();
      for (const e of await read(from, polledAt)) {
        if (seen.has(e.eventId)) continue;
        seen.set(e.eventId, e.time);
        io.out(o.json ? `${JSON.stringify(e)}\n` : `${line(e)}\n`);
      }
      from = Math.max(o.sinceMs, polledAt - FOLLOW_OVERLAP_MS);
      const oldest = new Date(from).toISOString();
      for (const [id, time] of seen) if (time < oldest) seen.delete(id);
      if (controller.signal.aborted) break;
      await sleep(o.intervalMs, controller.signal);
    }
  } finally {
    o.signal?.removeEventListener("abort", stop);
    if (ownSignals) {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  }
}
