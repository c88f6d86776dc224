// Time-bound exceptions (@exception + @expires): which are open, which expire soon, which have expired but
// are still in the policy files, and the grants each one allowed over the period.
import type { AuditEvent } from "../audit.ts";
import type { CompiledPolicies } from "../policy/policy-set.ts";
import type { ExceptionItem, ExceptionSection, ExceptionStatus } from "./report-types.ts";

const DAY_MS = 86_400_000;

export function exceptionSection(
  policies: CompiledPolicies,
  events: readonly AuditEvent[],
  nowMs: number,
  expiringWithinDays: number,
): ExceptionSection {
  const issued = events.filter((e) => e.outcome === "issue");
  return exceptionSectionOf(policies, nowMs, expiringWithinDays, (id) => {
    const allowed = issued.filter((e) => e.policyIds?.includes(id));
    return {
      count: allowed.length,
      onlyThisException: allowed.filter((e) => e.policyIds?.length === 1).length,
      workloads: [...new Set(allowed.map((e) => e.workload ?? ""))].filter(Boolean).sort(),
      grantIds: allowed.map((e) => e.grantId ?? "").filter(Boolean),
    };
  });
}

/**
 * Every exception of the policy set with its status at `nowMs`, and the grants it allowed as `grantsOf`
 * says: counted from the period's events, or merged from day summaries (from-counts.ts).
 */
export function exceptionSectionOf(
  policies: CompiledPolicies,
  nowMs: number,
  expiringWithinDays: number,
  grantsOf: (policyId: string) => ExceptionItem["grants"],
): ExceptionSection {
  const items: ExceptionItem[] = [];
  for (const p of Object.values(policies.policies)) {
    if (p.exception === undefined || p.expiresAt === undefined) continue;
    const left = p.expiresAt - nowMs;
    const status: ExceptionStatus =
      left <= 0 ? "expired" : left <= expiringWithinDays * DAY_MS ? "expiring" : "open";
    items.push({
      id: p.id,
      ticket: p.exception,
      expiresAt: new Date(p.expiresAt).toISOString().replace(".000Z", "Z"),
      file: p.file,
      line: p.line,
      status,
      daysLeft: Math.floor(left / DAY_MS),
      grants: grantsOf(p.id),
    });
  }
  items.sort((a, b) => a.expiresAt.localeCompare(b.expiresAt) || a.id.localeCompare(b.id));
  return {
    total: items.length,
    expiringWithinDays,
    open: items.filter((i) => i.status !== "expired").length,
    expiring: items.filter((i) => i.status === "expiring").length,
    expired: items.filter((i) => i.status === "expired").length,
    items,
  };
}
