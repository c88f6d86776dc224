// Who is trying what they may not do: the period's deny events grouped by workload, then by reason.
import type { AuditEvent } from "../audit.ts";
import type { WorkloadMatcher } from "../identity/workloads.ts";
import type { DenialsSection } from "./report-types.ts";

export function denialReason(e: AuditEvent): string {
  if (e.reasons && e.reasons.length > 0) return e.reasons.join("; ");
  return e.errorCode ?? "denied";
}

/**
 * Who was denied: the event's workload, else the configured workload its subject matches (a request
 * refused before the workload was recorded, e.g. a disabled one), else "unregistered:<subject>".
 */
function who(e: AuditEvent, workloads?: WorkloadMatcher): string {
  if (e.workload) return e.workload;
  const matched = e.issuer && e.subject ? workloads?.match(e.issuer, e.subject) : undefined;
  return matched ? matched.name : `unregistered:${e.subject ?? "unknown"}`;
}

export function denialSection(events: readonly AuditEvent[], workloads?: WorkloadMatcher): DenialsSection {
  const groups = new Map<
    string,
    { count: number; tasks: Set<string>; lastAt: string; reasons: Map<string, number> }
  >();
  let total = 0;
  for (const e of events) {
    // An approver's denial is a person's decision, not a policy's: counted under approvals.
    if (e.outcome !== "deny" || e.kind === "approval") continue;
    total++;
    const name = who(e, workloads);
    let g = groups.get(name);
    if (!g) {
      g = { count: 0, tasks: new Set(), lastAt: e.time, reasons: new Map() };
      groups.set(name, g);
    }
    g.count++;
    if (e.task) g.tasks.add(e.task);
    if (e.time > g.lastAt) g.lastAt = e.time;
    const reason = denialReason(e);
    g.reasons.set(reason, (g.reasons.get(reason) ?? 0) + 1);
  }
  const byWorkload = [...groups.entries()]
    .map(([workload, g]) => ({
      workload,
      count: g.count,
      tasks: [...g.tasks].sort(),
      lastAt: g.lastAt,
      reasons: [...g.reasons.entries()]
        .map(([reason, count]) => ({ reason, count }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
    }))
    .sort((a, b) => b.count - a.count || a.workload.localeCompare(b.workload));
  const reasons = new Map<string, number>();
  for (const g of byWorkload)
    for (const r of g.reasons) reasons.set(r.reason, (reasons.get(r.reason) ?? 0) + r.count);
  const byReason = [...reasons.entries()]
    .map(([reason, count]) => ({ reason, count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
  return { total, byWorkload, byReason };
}
