// Grants over time: the period's audit events counted per UTC day by outcome, every day of the period
// present (zero when quiet), so a chart of the series needs no gap-filling of its own.
import type { AuditEvent } from "../audit.ts";
import type { DayActivity } from "./report-types.ts";

const DAY_MS = 86_400_000;

export function activityByDay(
  events: readonly AuditEvent[],
  sinceMs: number,
  untilMs: number,
): DayActivity[] {
  const days = new Map<string, DayActivity>();
  for (let t = Math.floor(sinceMs / DAY_MS) * DAY_MS; t <= untilMs; t += DAY_MS) {
    const day = new Date(t).toISOString().slice(0, 10);
    days.set(day, { day, issued: 0, expired: 0, revoked: 0, released: 0, failed: 0, denied: 0 });
  }
  for (const e of events) {
    // How a revocation took effect in IAM is not another revocation (as in activitySection).
    if (e.revocationMode) continue;
    const d = days.get(e.time.slice(0, 10));
    if (!d) continue;
    if (e.outcome === "issue") d.issued++;
    else if (e.outcome === "expire") d.expired++;
    else if (e.outcome === "revoke") d.revoked++;
    else if (e.outcome === "release") d.released++;
    else if (e.outcome === "fail") d.failed++;
    else if (e.outcome === "deny") d.denied++;
  }
  return [...days.values()];
}
