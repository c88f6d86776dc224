// A UTC day's audit events reduced to what the report counts (docs/governance.md, "Day summaries"). Each
// counted section is one entry of SECTIONS: how it starts, how an event adds to it, how two days merge,
// and its stored shape. Every section merges exactly (counts add, sets unite, maxima take the larger,
// durations are exact value→count histograms), so a period read from summaries gives the numbers that
// reading every event gives. Adding a section: one entry here, its rendering in from-counts.ts, and a
// version bump, so that summaries written before it existed are recomputed from their events.
import { z } from "zod";
import type { AuditEvent } from "../audit.ts";
import { TASK_ENDED_REASON } from "../events/end-task.ts";
import { TASK_ENDED_DENIAL } from "../events/token-check.ts";
import { DAY_MS } from "./day-margin.ts";
import { addValue, type Histogram, mergeInto } from "./histogram.ts";

/** Bumped whenever a section is added or changes; a stored summary of another version is recomputed. */
export const DAY_SUMMARY_VERSION = 1;

export { DAY_MS, isLateAuditWrite, LATE_AFTER_MS, SUMMARY_MARGIN_MS } from "./day-margin.ts";

export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
export const dayStartMs = (day: string): number => Date.parse(`${day}T00:00:00.000Z`);
export const startOfUtcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;

/** What a section may need beyond the events: the exception policies known when the day is summarised. */
export interface SummaryContext {
  exceptionPolicyIds: ReadonlySet<string>;
}

interface CountedSection<S> {
  empty(): S;
  add(s: S, e: AuditEvent, ctx: SummaryContext): void;
  /** Adds `from` (a later day) into `into`. */
  merge(into: S, from: S): void;
  schema: z.ZodType<S>;
}

const histogramSchema: z.ZodType<Histogram> = z.record(z.string(), z.number().int().min(0));
const countsSchema = z.record(z.string(), z.number().int().min(0));
const addCount = (m: Record<string, number>, key: string, n = 1) => {
  m[key] = (m[key] ?? 0) + n;
};
const mergeCounts = (into: Record<string, number>, from: Record<string, number>) => {
  for (const [k, n] of Object.entries(from)) addCount(into, k, n);
};
const unite = (a: string[], b: readonly string[]) => [...new Set([...a, ...b])].sort();

// ---- activity (activity.ts) -------------------------------------------------------------------------------

export interface Tally {
  issued: number;
  expired: number;
  revoked: number;
  released: number;
  failed: number;
  durations: Histogram;
  /** Seconds from issue to end, for the grants whose issue and end are both counted (activity.ts). */
  lived: Histogram;
}
const tallySchema: z.ZodType<Tally> = z
  .object({
    issued: z.number().int().min(0),
    expired: z.number().int().min(0),
    revoked: z.number().int().min(0),
    released: z.number().int().min(0),
    failed: z.number().int().min(0),
    durations: histogramSchema,
    lived: histogramSchema,
  })
  .strict();
const emptyTally = (): Tally => ({
  issued: 0,
  expired: 0,
  revoked: 0,
  released: 0,
  failed: 0,
  durations: {},
  lived: {},
});
function countInto(t: Tally, e: AuditEvent): void {
  if (e.outcome === "issue") {
    t.issued++;
    if (typeof e.durationSeconds === "number") addValue(t.durations, e.durationSeconds);
  } else if (e.outcome === "expire") t.expired++;
  else if (e.outcome === "release") {
    t.released++;
    t.revoked++;
  } else if (e.outcome === "revoke") t.revoked++;
  else if (e.outcome === "fail") t.failed++;
}
function mergeTally(into: Tally, from: Tally): void {
  into.issued += from.issued;
  into.expired += from.expired;
  into.revoked += from.revoked;
  into.released += from.released;
  into.failed += from.failed;
  mergeInto(into.durations, from.durations);
  mergeInto(into.lived, from.lived);
}
const ENDS = ["issue", "expire", "release", "revoke", "fail"];

export interface ActivityCounts {
  all: Tally;
  byTask: Record<string, Tally>;
  revokeReasons: Record<string, number>;
  /**
   * A grant's life crosses days: issues not yet ended (grant id → issue time, ms), and the first end of a
   * grant whose issue was not seen (grant id → [task, end time, ms]). Merging a later day pairs its open
   * ends with the open issues before it, as activity.ts pairs them over the whole period; grants are short
   * (hours at most), so these hold the grants alive at midnight, not the day's traffic.
   */
  openIssues: Record<string, number>;
  openEnds: Record<string, [string, number]>;
}
const LIFE_ENDS = ["expire", "release", "revoke"];
const livedSeconds = (startMs: number, endMs: number) => Math.max(0, Math.round((endMs - startMs) / 1000));
const activity: CountedSection<ActivityCounts> = {
  empty: () => ({ all: emptyTally(), byTask: {}, revokeReasons: {}, openIssues: {}, openEnds: {} }),
  add(s, e) {
    // As activity.ts: every issue of the period may start a life (events arrive oldest first).
    if (e.outcome === "issue" && e.grantId) s.openIssues[e.grantId] = Date.parse(e.time);
    if (e.revocationMode || e.kind === "approval") return;
    countInto(s.all, e);
    if (e.task && ENDS.includes(e.outcome)) {
      s.byTask[e.task] ??= emptyTally();
      const t = s.byTask[e.task]!;
      countInto(t, e);
      if (e.grantId !== undefined && LIFE_ENDS.includes(e.outcome)) {
        const started = s.openIssues[e.grantId];
        if (started !== undefined) {
          addValue(t.lived, livedSeconds(started, Date.parse(e.time)));
          // One end per grant: a later event about the same grant is not a second life.
          delete s.openIssues[e.grantId];
        } else if (!(e.grantId in s.openEnds)) s.openEnds[e.grantId] = [e.task, Date.parse(e.time)];
      }
    }
    if (e.outcome === "revoke" || e.outcome === "release")
      addCount(s.revokeReasons, e.outcome === "release" ? "released" : (e.reasons?.[0] ?? "unspecified"));
  },
  merge(into, from) {
    mergeTally(into.all, from.all);
    for (const [task, t] of Object.entries(from.byTask)) {
      into.byTask[task] ??= emptyTally();
      mergeTally(into.byTask[task]!, t);
    }
    mergeCounts(into.revokeReasons, from.revokeReasons);
    // The later day's first ends of grants issued on an earlier day: their lives, once each.
    for (const [grantId, [task, endMs]] of Object.entries(from.openEnds)) {
      const started = into.openIssues[grantId];
      if (started === undefined) {
        if (!(grantId in into.openEnds)) into.openEnds[grantId] = [task, endMs];
        continue;
      }
      into.byTask[task] ??= emptyTally();
      addValue(into.byTask[task]!.lived, livedSeconds(started, endMs));
      delete into.openIssues[grantId];
    }
    Object.assign(into.openIssues, from.openIssues);
  },
  schema: z
    .object({
      all: tallySchema,
      byTask: z.record(z.string(), tallySchema),
      revokeReasons: countsSchema,
      openIssues: z.record(z.string(), z.number()),
      openEnds: z.record(z.string(), z.tuple([z.string(), z.number()])),
    })
    .strict(),
};

// ---- grants over time (by-day.ts) -------------------------------------------------------------------------

export interface DayCounts {
  issued: number;
  expired: number;
  revoked: number;
  released: number;
  failed: number;
  denied: number;
}
const DAY_FIELDS = {
  issue: "issued",
  expire: "expired",
  revoke: "revoked",
  release: "released",
  fail: "failed",
  deny: "denied",
} as const;
const dayCountsSchema: z.ZodType<DayCounts> = z
  .object({
    issued: z.number().int().min(0),
    expired: z.number().int().min(0),
    revoked: z.number().int().min(0),
    released: z.number().int().min(0),
    failed: z.number().int().min(0),
    denied: z.number().int().min(0),
  })
  .strict();
export const emptyDayCounts = (): DayCounts => ({
  issued: 0,
  expired: 0,
  revoked: 0,
  released: 0,
  failed: 0,
  denied: 0,
});
const byDay: CountedSection<Record<string, DayCounts>> = {
  empty: () => ({}),
  add(s, e) {
    if (e.revocationMode) return;
    const field = DAY_FIELDS[e.outcome as keyof typeof DAY_FIELDS];
    if (!field) return;
    const day = e.time.slice(0, 10);
    s[day] ??= emptyDayCounts();
    s[day]![field]++;
  },
  merge(into, from) {
    for (const [day, c] of Object.entries(from)) {
      into[day] ??= emptyDayCounts();
      const d = into[day]!;
      for (const f of Object.values(DAY_FIELDS)) d[f] += c[f];
    }
  },
  schema: z.record(z.string(), dayCountsSchema),
};

// ---- denials (denials.ts) ---------------------------------------------------------------------------------

/** One denied caller as the events name it; resolved to a workload when the report renders (who()). */
export interface DenialGroup {
  workload?: string;
  issuer?: string;
  subject?: string;
  count: number;
  tasks: string[];
  lastAt: string;
  reasons: Record<string, number>;
}
export interface DenialCounts {
  total: number;
  groups: Record<string, DenialGroup>;
}
export function denialReason(e: AuditEvent): string {
  if (e.reasons && e.reasons.length > 0) return e.reasons.join("; ");
  return e.errorCode ?? "denied";
}
const denials: CountedSection<DenialCounts> = {
  empty: () => ({ total: 0, groups: {} }),
  add(s, e) {
    if (e.outcome !== "deny" || e.kind === "approval") return;
    s.total++;
    const ident: Pick<DenialGroup, "workload" | "issuer" | "subject"> = e.workload
      ? { workload: e.workload }
      : {
          ...(e.issuer !== undefined ? { issuer: e.issuer } : {}),
          ...(e.subject !== undefined ? { subject: e.subject } : {}),
        };
    const key = JSON.stringify([ident.workload ?? null, ident.issuer ?? null, ident.subject ?? null]);
    s.groups[key] ??= { ...ident, count: 0, tasks: [], lastAt: e.time, reasons: {} };
    const g = s.groups[key]!;
    g.count++;
    if (e.task && !g.tasks.includes(e.task)) g.tasks = unite(g.tasks, [e.task]);
    if (e.time > g.lastAt) g.lastAt = e.time;
    addCount(g.reasons, denialReason(e));
  },
  merge(into, from) {
    into.total += from.total;
    for (const [key, g] of Object.entries(from.groups)) {
      const mine = into.groups[key];
      if (!mine) {
        into.groups[key] = { ...g, tasks: [...g.tasks], reasons: { ...g.reasons } };
        continue;
      }
      mine.count += g.count;
      mine.tasks = unite(mine.tasks, g.tasks);
      if (g.lastAt > mine.lastAt) mine.lastAt = g.lastAt;
      mergeCounts(mine.reasons, g.reasons);
    }
  },
  schema: z
    .object({
      total: z.number().int().min(0),
      groups: z.record(
        z.string(),
        z
          .object({
            workload: z.string().optional(),
            issuer: z.string().optional(),
            subject: z.string().optional(),
            count: z.number().int().min(1),
            tasks: z.array(z.string()),
            lastAt: z.string(),
            reasons: countsSchema,
          })
          .strict(),
      ),
    })
    .strict(),
};

// ---- exceptions (exceptions.ts) ---------------------------------------------------------------------------

export interface ExceptionGrants {
  count: number;
  onlyThisException: number;
  workloads: string[];
  /** In event order; days concatenate oldest first, as the period's events are read. */
  grantIds: string[];
}
export interface ExceptionCounts {
  /** The exception policies this covers: a policy that became an exception later needs its days re-read. */
  known: string[];
  policies: Record<string, ExceptionGrants>;
}
const exceptions: CountedSection<ExceptionCounts> = {
  empty: () => ({ known: [], policies: {} }),
  add(s, e, ctx) {
    if (e.outcome !== "issue" || !e.policyIds) return;
    for (const id of new Set(e.policyIds)) {
      if (!ctx.exceptionPolicyIds.has(id)) continue;
      s.policies[id] ??= { count: 0, onlyThisException: 0, workloads: [], grantIds: [] };
      const p = s.policies[id]!;
      p.count++;
      if (e.policyIds.length === 1) p.onlyThisException++;
      if (e.workload && !p.workloads.includes(e.workload)) p.workloads = unite(p.workloads, [e.workload]);
      if (e.grantId) p.grantIds.push(e.grantId);
    }
  },
  merge(into, from) {
    for (const [id, g] of Object.entries(from.policies)) {
      into.policies[id] ??= { count: 0, onlyThisException: 0, workloads: [], grantIds: [] };
      const p = into.policies[id]!;
      p.count += g.count;
      p.onlyThisException += g.onlyThisException;
      p.workloads = unite(p.workloads, g.workloads);
      p.grantIds.push(...g.grantIds);
    }
  },
  schema: z
    .object({
      known: z.array(z.string()),
      policies: z.record(
        z.string(),
        z
          .object({
            count: z.number().int().min(0),
            onlyThisException: z.number().int().min(0),
            workloads: z.array(z.string()),
            grantIds: z.array(z.string()),
          })
          .strict(),
      ),
    })
    .strict(),
};

// ---- task ends (task-end.ts) -----------------------------------------------------------------------------

export interface TaskEndCounts {
  /** Distinct `${actor}#${deliveryId}` of the webhook deliveries and findings handled, sorted. */
  deliveries: string[];
  grantsEnded: number;
  deniedAfterEnd: number;
  /** Releases by issuer name: which issuers are CI systems' is the config's say when the report renders. */
  releasesByIssuer: Record<string, number>;
}
const taskEnd: CountedSection<TaskEndCounts> = {
  empty: () => ({ deliveries: [], grantsEnded: 0, deniedAfterEnd: 0, releasesByIssuer: {} }),
  add(s, e) {
    if (e.kind === "event" && e.deliveryId) {
      const key = `${e.actor ?? ""}#${e.deliveryId}`;
      if (!s.deliveries.includes(key)) s.deliveries = unite(s.deliveries, [key]);
    }
    if (
      e.kind === "event" &&
      e.outcome === "revoke" &&
      e.reasons?.[0] === TASK_ENDED_REASON &&
      !e.revocationMode
    )
      s.grantsEnded++;
    if (e.outcome === "deny" && e.reasons?.includes(TASK_ENDED_DENIAL)) s.deniedAfterEnd++;
    if (e.outcome === "release" && e.issuer) addCount(s.releasesByIssuer, e.issuer);
  },
  merge(into, from) {
    into.deliveries = unite(into.deliveries, from.deliveries);
    into.grantsEnded += from.grantsEnded;
    into.deniedAfterEnd += from.deniedAfterEnd;
    mergeCounts(into.releasesByIssuer, from.releasesByIssuer);
  },
  schema: z
    .object({
      deliveries: z.array(z.string()),
      grantsEnded: z.number().int().min(0),
      deniedAfterEnd: z.number().int().min(0),
      releasesByIssuer: countsSchema,
    })
    .strict(),
};

// ---- the registry -----------------------------------------------------------------------------------------

// Each entry has its own state type; PeriodCounts below keeps them apart.
const SECTIONS = { activity, byDay, denials, exceptions, taskEnd };

type SectionName = keyof typeof SECTIONS;
export type PeriodCounts = {
  [K in SectionName]: (typeof SECTIONS)[K] extends CountedSection<infer S> ? S : never;
};

/** One UTC day's summary as stored. */
export interface DaySummary {
  version: number;
  day: string;
  /** Audit events the summary was computed from. */
  events: number;
  counts: PeriodCounts;
}

export const daySummarySchema: z.ZodType<DaySummary> = z
  .object({
    version: z.number().int().min(1),
    day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    events: z.number().int().min(0),
    counts: z
      .object(
        Object.fromEntries(Object.entries(SECTIONS).map(([k, s]) => [k, s.schema])) as {
          [K in SectionName]: z.ZodType<PeriodCounts[K]>;
        },
      )
      .strict(),
  })
  .strict() as z.ZodType<DaySummary>;

const names = Object.keys(SECTIONS) as SectionName[];

export function emptyCounts(ctx: SummaryContext): PeriodCounts {
  const c = Object.fromEntries(names.map((k) => [k, SECTIONS[k].empty()])) as PeriodCounts;
  c.exceptions.known = [...ctx.exceptionPolicyIds].sort();
  return c;
}

export function addEvent(c: PeriodCounts, e: AuditEvent, ctx: SummaryContext): void {
  for (const k of names) (SECTIONS[k] as CountedSection<unknown>).add(c[k], e, ctx);
}

export function countEvents(events: Iterable<AuditEvent>, ctx: SummaryContext): PeriodCounts {
  const c = emptyCounts(ctx);
  for (const e of events) addEvent(c, e, ctx);
  return c;
}

/** Merges days given oldest first; `known` exceptions are those every day covers. */
export function mergePeriodCounts(days: readonly PeriodCounts[], ctx: SummaryContext): PeriodCounts {
  const out = emptyCounts(ctx);
  for (const d of days) {
    for (const k of names) (SECTIONS[k] as CountedSection<unknown>).merge(out[k], d[k]);
    out.exceptions.known = out.exceptions.known.filter((id) => d.exceptions.known.includes(id));
  }
  return out;
}

export function summariseDay(day: string, events: readonly AuditEvent[], ctx: SummaryContext): DaySummary {
  return { version: DAY_SUMMARY_VERSION, day, events: events.length, counts: countEvents(events, ctx) };
}

/** A stored summary can stand for its day's events when it is of this version and covers every exception. */
export function summaryCovers(s: DaySummary, ctx: SummaryContext): boolean {
  return (
    s.version === DAY_SUMMARY_VERSION &&
    [...ctx.exceptionPolicyIds].every((id) => s.counts.exceptions.known.includes(id))
  );
}
