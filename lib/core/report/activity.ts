// Grant activity over the period, from the audit trail: issued, expired, revoked by reason, released by
// the workload itself, and per task the granted durations and how long grants lived.
import type { AuditEvent } from "../audit.ts";
import type { ActivitySection, TaskActivity } from "./report-types.ts";

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const share = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

interface Tally {
  issued: number;
  expired: number;
  revoked: number;
  released: number;
  failed: number;
  durations: number[];
  lived: number[];
}

const emptyTally = (): Tally => ({
  issued: 0,
  expired: 0,
  revoked: 0,
  released: 0,
  failed: 0,
  durations: [],
  lived: [],
});

function count(t: Tally, e: AuditEvent): void {
  switch (e.outcome) {
    case "issue":
      t.issued++;
      if (typeof e.durationSeconds === "number") t.durations.push(e.durationSeconds);
      return;
    case "expire":
      t.expired++;
      return;
    case "release":
      t.released++;
      t.revoked++;
      return;
    case "revoke":
      t.revoked++;
      return;
    case "fail":
      t.failed++;
      return;
    default:
      return;
  }
}

export function activitySection(events: readonly AuditEvent[]): Omit<ActivitySection, "byDay"> {
  const all = emptyTally();
  const byTask = new Map<string, Tally>();
  const reasons = new Map<string, number>();
  /** Issue time by grant, so an end event of the same grant says how long it lived. */
  const issuedAt = new Map<string, number>();
  for (const e of events) if (e.outcome === "issue" && e.grantId) issuedAt.set(e.grantId, Date.parse(e.time));
  for (const e of events) {
    // How a revocation took effect in IAM, recorded after the revocation itself: not another revocation.
    if (e.revocationMode) continue;
    // Approval requests lapse too; the report counts them in its own section (approvals).
    if (e.kind === "approval") continue;
    count(all, e);
    if (e.task && ["issue", "expire", "release", "revoke", "fail"].includes(e.outcome)) {
      const t = byTask.get(e.task) ?? emptyTally();
      byTask.set(e.task, t);
      count(t, e);
      const started = e.grantId === undefined ? undefined : issuedAt.get(e.grantId);
      if (started !== undefined && ["expire", "release", "revoke"].includes(e.outcome)) {
        t.lived.push(Math.max(0, Math.round((Date.parse(e.time) - started) / 1000)));
        // One end per grant: a later event about the same grant (a retried revocation) is not a second life.
        issuedAt.delete(e.grantId!);
      }
    }
    if (e.outcome === "revoke" || e.outcome === "release") {
      const reason = e.outcome === "release" ? "released" : (e.reasons?.[0] ?? "unspecified");
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
  }
  const tasks: TaskActivity[] = [...byTask.entries()]
    .map(([task, t]) => ({
      task,
      issued: t.issued,
      expired: t.expired,
      revoked: t.revoked,
      released: t.released,
      failed: t.failed,
      medianDurationSeconds: median(t.durations),
      maxDurationSeconds: t.durations.length > 0 ? Math.max(...t.durations) : null,
      medianLivedSeconds: median(t.lived),
      releasedShare: share(t.released, t.issued),
    }))
    .sort((a, b) => a.task.localeCompare(b.task));
  return {
    issued: all.issued,
    expired: all.expired,
    revoked: {
      total: all.revoked,
      byReason: [...reasons.entries()]
        .map(([reason, n]) => ({ reason, count: n }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    },
    released: all.released,
    failed: all.failed,
    releasedShare: share(all.released, all.issued),
    byTask: tasks,
  };
}
