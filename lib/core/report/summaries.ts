// Reading a period by the day: closed days from their stored summaries, the partial days at either end
// (today, and a first day the period starts inside) from their events. A closed day without a current
// summary (none written yet, an older version, a late event since, an exception it does not cover) is
// read from its events and, once past the margin, summarised then. The sweep writes the summaries of the
// days just closed (summariseClosedDays), so the report usually reads only today's events.
import type { AuditEvent } from "../audit.ts";
import type { CompiledPolicies } from "../policy/policy-set.ts";
import type { GrantStore } from "../store.ts";
import {
  countEvents,
  DAY_MS,
  type DaySummary,
  dayOf,
  dayStartMs,
  daySummarySchema,
  mergePeriodCounts,
  type PeriodCounts,
  SUMMARY_MARGIN_MS,
  type SummaryContext,
  summariseDay,
  summaryCovers,
} from "./day-summary.ts";
import { exceptionPolicyIds } from "./from-counts.ts";
import type { GovernanceStore, StoredDay } from "./governance-store.ts";

/** How a period was read, for tests and the benchmark. */
export interface PeriodReadStats {
  summariesUsed: number;
  daysReadFromEvents: number;
  summariesWritten: number;
}

const PARALLEL_DAYS = 4;

async function eventsBetween(
  store: GrantStore,
  sinceMs: number,
  untilMs: number,
  deadlineMs?: number,
  now?: () => number,
): Promise<AuditEvent[] | undefined> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    if (deadlineMs !== undefined && now && now() >= deadlineMs) return undefined;
    const page = await store.listAudit({ sinceMs, untilMs, ...(cursor ? { cursor } : {}) });
    events.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return events;
}

/** The stored summary, when it stands for every event of its day. */
function current(stored: StoredDay | undefined, ctx: SummaryContext): DaySummary | undefined {
  if (!stored || stored.summary === undefined || stored.late !== stored.coveredLate) return undefined;
  const parsed = daySummarySchema.safeParse(stored.summary);
  return parsed.success && summaryCovers(parsed.data, ctx) ? parsed.data : undefined;
}

const lastMsOf = (day: string) => dayStartMs(day) + DAY_MS - 1;

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/**
 * The period's counts, merged oldest day first: exactly what countEvents gives over every event of
 * [sinceMs, nowMs].
 */
export async function periodCounts(
  store: GrantStore,
  governance: GovernanceStore,
  policies: CompiledPolicies,
  period: { sinceMs: number; nowMs: number },
  stats: PeriodReadStats = { summariesUsed: 0, daysReadFromEvents: 0, summariesWritten: 0 },
): Promise<PeriodCounts> {
  const ctx: SummaryContext = { exceptionPolicyIds: exceptionPolicyIds(policies) };
  const { sinceMs, nowMs } = period;
  if (sinceMs > nowMs) return countEvents([], ctx);
  const days: string[] = [];
  for (let t = dayStartMs(dayOf(sinceMs)); t <= nowMs; t += DAY_MS) days.push(dayOf(t));
  const whole = (day: string) => dayStartMs(day) >= sinceMs && lastMsOf(day) < nowMs;
  const wholeDays = days.filter(whole);
  const stored =
    wholeDays.length > 0 ? await governance.getDays(wholeDays[0]!, wholeDays.at(-1)!) : new Map();
  const counts = new Map<string, PeriodCounts>();
  const toRead: string[] = [];
  for (const day of days) {
    const s = whole(day) ? current(stored.get(day), ctx) : undefined;
    if (s) {
      counts.set(day, s.counts);
      stats.summariesUsed++;
    } else toRead.push(day);
  }
  await pool(toRead, PARALLEL_DAYS, async (day) => {
    const from = Math.max(sinceMs, dayStartMs(day));
    const until = Math.min(nowMs, lastMsOf(day));
    const events = (await eventsBetween(store, from, until)) ?? [];
    stats.daysReadFromEvents++;
    counts.set(day, countEvents(events, ctx));
    if (whole(day) && nowMs >= lastMsOf(day) + 1 + SUMMARY_MARGIN_MS) {
      // A reader that may not write (read-only credentials) still answers from the events.
      const wrote = await governance
        .putDaySummary(day, summariseDay(day, events, ctx), stored.get(day))
        .catch(() => false);
      if (wrote) stats.summariesWritten++;
    }
  });
  return mergePeriodCounts(
    days.map((d) => counts.get(d)!),
    ctx,
  );
}

/** The newest day whose margin has passed at `nowMs`: summaries may be written up to it. */
export const lastClosedDay = (nowMs: number): string => dayOf(nowMs - SUMMARY_MARGIN_MS - DAY_MS);

/**
 * The sweep's part: summarise each closed day of the last `lookbackDays` (past the margin) that has no
 * current summary, oldest first, within the deadline. Idempotent; concurrent sweeps write one summary.
 * `done` when every one of those days has a current summary.
 */
export async function summariseClosedDays(
  store: GrantStore,
  policies: CompiledPolicies,
  options: { nowMs: number; deadlineMs: number; now: () => number; lookbackDays?: number },
): Promise<{ written: number; done: boolean }> {
  const governance = store.governance;
  if (!governance) return { written: 0, done: true };
  const ctx: SummaryContext = { exceptionPolicyIds: exceptionPolicyIds(policies) };
  const lastClosed = lastClosedDay(options.nowMs);
  const first = dayOf(dayStartMs(lastClosed) - ((options.lookbackDays ?? 2) - 1) * DAY_MS);
  const stored = await governance.getDays(first, lastClosed);
  let written = 0;
  let done = true;
  for (let t = dayStartMs(first); t <= dayStartMs(lastClosed); t += DAY_MS) {
    const day = dayOf(t);
    if (current(stored.get(day), ctx)) continue;
    const events = await eventsBetween(store, t, lastMsOf(day), options.deadlineMs, options.now);
    if (!events) return { written, done: false };
    if (await governance.putDaySummary(day, summariseDay(day, events, ctx), stored.get(day))) written++;
    else done = false;
  }
  return { written, done };
}
