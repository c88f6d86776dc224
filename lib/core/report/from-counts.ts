// The report's counted sections rendered from a period's merged counts (day-summary.ts): the same output,
// in the same order, that activity.ts, by-day.ts, denials.ts and exceptions.ts give over the events.
import type { EventsConfig } from "../../config/events-schema.ts";
import type { WorkloadMatcher } from "../identity/workloads.ts";
import type { CompiledPolicies } from "../policy/policy-set.ts";
import { type DenialGroup, emptyDayCounts, type PeriodCounts, type Tally } from "./day-summary.ts";
import { exceptionSectionOf } from "./exceptions.ts";
import { histogramMax, histogramMedian } from "./histogram.ts";
import type {
  ActivitySection,
  DayActivity,
  DenialsSection,
  ExceptionSection,
  TaskActivity,
} from "./report-types.ts";
import type { TaskEndSection } from "./task-end.ts";

const DAY_MS = 86_400_000;
const share = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);
const byCount = (m: Record<string, number>, key: "reason") =>
  Object.entries(m)
    .map(([k, count]) => ({ [key]: k, count }) as { reason: string; count: number })
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));

export function activityFromCounts(c: PeriodCounts["activity"]): Omit<ActivitySection, "byDay"> {
  const tasks: TaskActivity[] = Object.entries(c.byTask)
    .map(([task, t]: [string, Tally]) => ({
      task,
      issued: t.issued,
      expired: t.expired,
      revoked: t.revoked,
      released: t.released,
      failed: t.failed,
      medianDurationSeconds: histogramMedian(t.durations),
      maxDurationSeconds: histogramMax(t.durations),
      medianLivedSeconds: histogramMedian(t.lived),
      releasedShare: share(t.released, t.issued),
    }))
    .sort((a, b) => a.task.localeCompare(b.task));
  return {
    issued: c.all.issued,
    expired: c.all.expired,
    revoked: { total: c.all.revoked, byReason: byCount(c.revokeReasons, "reason") },
    released: c.all.released,
    failed: c.all.failed,
    releasedShare: share(c.all.released, c.all.issued),
    byTask: tasks,
  };
}

export function byDayFromCounts(c: PeriodCounts["byDay"], sinceMs: number, untilMs: number): DayActivity[] {
  const out: DayActivity[] = [];
  for (let t = Math.floor(sinceMs / DAY_MS) * DAY_MS; t <= untilMs; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push({ day, ...(c[day] ?? emptyDayCounts()) });
  }
  return out;
}

function who(g: DenialGroup, workloads?: WorkloadMatcher): string {
  if (g.workload) return g.workload;
  const matched = g.issuer && g.subject ? workloads?.match(g.issuer, g.subject) : undefined;
  return matched ? matched.name : `unregistered:${g.subject ?? "unknown"}`;
}

export function denialsFromCounts(c: PeriodCounts["denials"], workloads?: WorkloadMatcher): DenialsSection {
  const groups = new Map<
    string,
    { count: number; tasks: Set<string>; lastAt: string; reasons: Record<string, number> }
  >();
  for (const g of Object.values(c.groups)) {
    const name = who(g, workloads);
    const mine = groups.get(name);
    if (!mine) {
      groups.set(name, {
        count: g.count,
        tasks: new Set(g.tasks),
        lastAt: g.lastAt,
        reasons: { ...g.reasons },
      });
      continue;
    }
    mine.count += g.count;
    for (const t of g.tasks) mine.tasks.add(t);
    if (g.lastAt > mine.lastAt) mine.lastAt = g.lastAt;
    for (const [r, n] of Object.entries(g.reasons)) mine.reasons[r] = (mine.reasons[r] ?? 0) + n;
  }
  const byWorkload = [...groups.entries()]
    .map(([workload, g]) => ({
      workload,
      count: g.count,
      tasks: [...g.tasks].sort(),
      lastAt: g.lastAt,
      reasons: byCount(g.reasons, "reason"),
    }))
    .sort((a, b) => b.count - a.count || a.workload.localeCompare(b.workload));
  const reasons: Record<string, number> = {};
  for (const g of byWorkload)
    for (const r of g.reasons) reasons[r.reason] = (reasons[r.reason] ?? 0) + r.count;
  return { total: c.total, byWorkload, byReason: byCount(reasons, "reason") };
}

export function exceptionsFromCounts(
  policies: CompiledPolicies,
  c: PeriodCounts["exceptions"],
  nowMs: number,
  expiringWithinDays: number,
): ExceptionSection {
  return exceptionSectionOf(policies, nowMs, expiringWithinDays, (id) => {
    const g = c.policies[id];
    return {
      count: g?.count ?? 0,
      onlyThisException: g?.onlyThisException ?? 0,
      workloads: [...(g?.workloads ?? [])],
      grantIds: [...(g?.grantIds ?? [])],
    };
  });
}

/** The exception policies of a policy set: what a day summary counts grants for. */
export function exceptionPolicyIds(policies: CompiledPolicies): Set<string> {
  return new Set(
    Object.values(policies.policies)
      .filter((p) => p.exception !== undefined && p.expiresAt !== undefined)
      .map((p) => p.id),
  );
}

/** task-end.ts's section from the counts; which issuers are CI systems' comes from the config now. */
export function taskEndFromCounts(
  c: PeriodCounts["taskEnd"],
  config: { events?: EventsConfig | undefined },
): TaskEndSection {
  const ciIssuers = new Set([
    ...(config.events?.github?.issuers ?? []),
    ...(config.events?.gitlab?.issuers ?? []),
  ]);
  let releasedBeforeEnd = 0;
  for (const [issuer, n] of Object.entries(c.releasesByIssuer))
    if (ciIssuers.has(issuer)) releasedBeforeEnd += n;
  return {
    events: c.deliveries.length,
    grantsEnded: c.grantsEnded,
    deniedAfterEnd: c.deniedAfterEnd,
    releasedBeforeEnd,
  };
}
