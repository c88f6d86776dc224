// The overview's model: the report of the period (closed days from their summaries, today from its
// events: lib/core/report/summaries.ts) and what is true now (lib/core/report/live-state.ts).
import { startOfUtcDay } from "../../core/report/day-summary.ts";
import { reportFromStore } from "../../core/report/gather.ts";
import { type LiveState, liveState } from "../../core/report/live-state.ts";
import type { GovernanceReport } from "../../core/report/report-types.ts";
import type { ConsoleDeps } from "./console-app.ts";

const DAY_MS = 86_400_000;

export interface OverviewModel {
  report: GovernanceReport;
  live: LiveState;
}

export async function overviewModel(
  deps: Pick<ConsoleDeps, "store" | "config" | "policies" | "configVersion" | "inventory">,
  days: number,
  nowMs: number,
): Promise<OverviewModel> {
  const [report, live] = await Promise.all([
    reportFromStore(
      deps.store,
      deps,
      { sinceMs: startOfUtcDay(nowMs - days * DAY_MS), nowMs },
      deps.inventory,
    ),
    liveState(deps.store, nowMs),
  ]);
  return { report, live };
}
