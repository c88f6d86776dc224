// Reads what the report needs from the grant store by key, never by scan: the audit events of the period
// (queries on each UTC day's partition keys) and each configured workload's newest grant (one item per
// workload).
import type { WorkloadConfig } from "../../config/schema.ts";
import type { AuditEvent } from "../audit.ts";
import { debtFromStore } from "../inventory/gather.ts";
import type { InventoryStore } from "../inventory/store.ts";
import type { GrantStore } from "../store.ts";
import { buildReport, type ReportInputs } from "./build-report.ts";
import type { GovernanceReport } from "./report-types.ts";
import { type PeriodReadStats, periodCounts } from "./summaries.ts";

export async function auditEventsBetween(
  store: GrantStore,
  sinceMs: number,
  untilMs: number,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAudit({ sinceMs, untilMs, ...(cursor ? { cursor } : {}) });
    events.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return events;
}

export async function lastGrantPerWorkload(
  store: GrantStore,
  workloads: readonly WorkloadConfig[],
): Promise<Map<string, string | undefined>> {
  const entries = await Promise.all(
    workloads.map(
      async (w) =>
        [w.name, (await store.listGrantsByWorkload(w.name, { limit: 1 })).items[0]?.issuedAt] as const,
    ),
  );
  return new Map(entries);
}

/** Approval requests made in the period and those pending now, by key (month partitions, the pending index). */
export async function approvalsBetween(store: GrantStore, sinceMs: number, untilMs: number) {
  if (!store.approvals) return { requested: [], pending: [] };
  const [requested, pending] = await Promise.all([
    store.approvals.listRequested(sinceMs, untilMs),
    store.approvals.listPending(),
  ]);
  return { requested, pending };
}

/**
 * The report over [sinceMs, nowMs] read from the store: what `credbroker report` prints in every format
 * and what the console's overview shows, so both count the same way.
 */
export async function reportFromStore(
  store: GrantStore,
  resolved: Pick<ReportInputs, "config" | "policies" | "configVersion">,
  period: { sinceMs: number; nowMs: number },
  /** The inventory's snapshots (CONTRACT §9); without it the debt section is empty. */
  inventory?: InventoryStore,
  /** Filled with how the period was read (summaries, days read from events). */
  stats?: PeriodReadStats,
): Promise<GovernanceReport> {
  // Closed days from their summaries (summaries.ts) when the store keeps them; otherwise every event.
  const { governance } = store;
  const [counted, lastGrantAt, approvals, debt] = await Promise.all([
    governance
      ? periodCounts(store, governance, resolved.policies, period, stats).then((counts) => ({ counts }))
      : auditEventsBetween(store, period.sinceMs, period.nowMs).then((events) => ({ events })),
    lastGrantPerWorkload(store, resolved.config.workloads),
    approvalsBetween(store, period.sinceMs, period.nowMs),
    inventory ? debtFromStore(inventory, period.nowMs) : undefined,
  ]);
  return buildReport({
    ...resolved,
    ...counted,
    lastGrantAt,
    sinceMs: period.sinceMs,
    untilMs: period.nowMs,
    nowMs: period.nowMs,
    ...(debt ? { debt } : {}),
    approvals,
  });
}
