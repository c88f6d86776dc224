// The report's approvals section (CONTRACT §10) from the approval records themselves: the requests made in
// the period by how they ended, the time people took to decide, and what is pending now.
import { type ApprovalRequest, statusAt } from "../approvals/request.ts";
import type { ApprovalsSection, ApprovalTaskCounts } from "./report-types.ts";

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const m = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return Math.round(m);
}

export function approvalSection(
  requested: readonly ApprovalRequest[],
  pendingNow: readonly ApprovalRequest[],
  nowMs: number,
): ApprovalsSection {
  const tasks = new Map<string, ApprovalTaskCounts & { waits: number[] }>();
  const task = (name: string) => {
    let t = tasks.get(name);
    if (!t) {
      t = {
        task: name,
        requested: 0,
        pending: 0,
        approved: 0,
        denied: 0,
        lapsed: 0,
        medianSecondsToDecision: null,
        waits: [],
      };
      tasks.set(name, t);
    }
    return t;
  };
  const waits: number[] = [];
  for (const r of requested) {
    const t = task(r.task);
    t.requested++;
    const status = statusAt(r, nowMs);
    if (status === "approved") t.approved++;
    else if (status === "denied") t.denied++;
    else if (status === "expired") t.lapsed++;
    if ((status === "approved" || status === "denied") && r.decidedAtMs !== undefined) {
      const seconds = (r.decidedAtMs - r.requestedAtMs) / 1000;
      t.waits.push(seconds);
      waits.push(seconds);
    }
  }
  let pending = 0;
  for (const r of pendingNow) {
    if (statusAt(r, nowMs) !== "pending") continue;
    pending++;
    task(r.task).pending++;
  }
  const byTask = [...tasks.values()]
    .sort((a, b) => a.task.localeCompare(b.task))
    .map(({ waits: w, ...t }) => ({ ...t, medianSecondsToDecision: median(w) }));
  return {
    pending,
    approved: byTask.reduce((n, t) => n + t.approved, 0),
    denied: byTask.reduce((n, t) => n + t.denied, 0),
    lapsed: byTask.reduce((n, t) => n + t.lapsed, 0),
    medianSecondsToDecision: median(waits),
    byTask,
  };
}
