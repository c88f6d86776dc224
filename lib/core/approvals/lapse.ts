// The sweep's approval step: requests past their expiry (never approved, or approved and never collected)
// lapse, each with one conditional write and an `expire` audit event. It reads the approvals' own key on the
// due index, so its cost follows what is due, not every request ever made.
import { recordAudit } from "../audit-recorder.ts";
import { newId } from "../ids.ts";
import type { ReevaluateDeps } from "../reevaluate.ts";
import { lapse } from "./state.ts";
import { ApprovalVersionConflict } from "./store.ts";

export interface LapseSummary {
  lapsed: number;
  /** Another writer (an approver, a poll, another sweep) changed the request first. */
  skipped: number;
  complete: boolean;
}

export async function lapseDueApprovals(
  deps: Pick<ReevaluateDeps, "store" | "clock" | "log">,
  options: { deadlineMs: number; pageSize?: number },
): Promise<LapseSummary> {
  const summary: LapseSummary = { lapsed: 0, skipped: 0, complete: true };
  const store = deps.store.approvals;
  if (!store) return summary;
  let cursor: string | undefined;
  do {
    if (deps.clock.now() >= options.deadlineMs) return { ...summary, complete: false };
    const page = await store.listDue(deps.clock.now(), {
      limit: options.pageSize ?? 100,
      ...(cursor ? { cursor } : {}),
    });
    for (const r of page.items) {
      const now = deps.clock.now();
      const next = lapse(r, now);
      if (!next) continue;
      try {
        await store.replace(next);
      } catch (err) {
        if (err instanceof ApprovalVersionConflict) {
          summary.skipped++;
          continue;
        }
        throw err;
      }
      summary.lapsed++;
      await recordAudit(deps.store, deps.log, {
        eventId: newId(now),
        time: new Date(now).toISOString(),
        kind: "approval",
        outcome: "expire",
        approvalId: r.approvalId,
        decisionId: r.decisionId,
        workload: r.workload,
        subject: r.subject,
        issuer: r.issuer,
        task: r.task,
        sourceIp: r.sourceIp,
        ...(r.purpose !== "" ? { purpose: r.purpose } : {}),
        reasons: [
          r.status === "approved" ? "approved but never collected" : "no decision before the request lapsed",
        ],
      });
    }
    cursor = page.cursor;
  } while (cursor);
  return summary;
}
