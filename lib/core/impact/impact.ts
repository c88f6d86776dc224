// `policy impact` (CONTRACT §14): every recorded decision of a period decided again under the deployed
// config and under the proposed one, page by page as the pages arrive. What replays differently under the
// deployed config itself is not reproducible (the record no longer says what was decided then) and stays
// out of the comparison; the rest is counted by how the proposal would move it. Only counts, a few sample
// ids and policy ids are kept, so memory follows the workloads, tasks and policies, not the period.
import type { AuditEvent } from "../audit.ts";
import type { RecordedInput } from "./recorded-input.ts";
import { createReplayer, type ReplayConfig, type Replayed } from "./replay.ts";

export const NO_RECORDED_INPUT = "no recorded input";
const SAMPLES = 5;
const WHYS = 10;

export interface ImpactChange {
  workload: string;
  task: string;
  from: "allow" | "deny";
  to: "allow" | "deny";
  count: number;
  /** The policies that decide these requests under the proposed config. */
  policiesNow: string[];
  /** Decision ids of the first few such requests. */
  samples: string[];
  /** Why the proposal decides them so ("forbidden by …", "unregistered workload"). */
  why: string[];
}

export interface DecisionImpact {
  periodSince: string;
  periodUntil: string;
  decisions: number;
  unchanged: number;
  allowToDeny: number;
  denyToAllow: number;
  notReproducible: { count: number; byReason: { reason: string; count: number }[] };
  changes: ImpactChange[];
}

/** The decisions among audit events: token events with a recorded input, or that recorded an outcome. */
export function isDecisionEvent(event: AuditEvent): boolean {
  if (event.kind !== "token") return false;
  if (event.input) return true;
  return (
    event.decisionId !== undefined &&
    (event.outcome === "issue" ||
      event.outcome === "allow" ||
      event.outcome === "deny" ||
      event.outcome === "pending")
  );
}

/** Why the deployed config's replay differs from what was recorded. */
function notReproducedWhy(input: RecordedInput, deployed: Replayed): string {
  if ("notDecidable" in deployed) return deployed.notDecidable;
  if (deployed.workload !== input.workload) {
    if (input.workload === undefined) return "subject registered since";
    return `workload ${input.workload} renamed or removed since`;
  }
  if (deployed.why === "unknown task") return `task ${input.task} renamed or removed since`;
  if (deployed.why === "disabled workload") return `workload ${input.workload} disabled since`;
  return "the deployed config decides it differently (config, policies or inventory changed since)";
}

export class ImpactAccumulator {
  private readonly deployed: (input: RecordedInput) => Replayed;
  private readonly proposed: (input: RecordedInput) => Replayed;
  private decisions = 0;
  private unchanged = 0;
  private allowToDeny = 0;
  private denyToAllow = 0;
  private readonly reasons = new Map<string, number>();
  private readonly changes = new Map<
    string,
    Omit<ImpactChange, "policiesNow" | "why"> & { policiesNow: Set<string>; why: Set<string> }
  >();

  constructor(deployed: ReplayConfig, proposed: ReplayConfig) {
    this.deployed = createReplayer(deployed);
    this.proposed = createReplayer(proposed);
  }

  private notReproducible(reason: string): void {
    this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
  }

  add(event: AuditEvent): void {
    if (!isDecisionEvent(event)) return;
    this.decisions++;
    const input = event.input;
    if (!input) {
      this.notReproducible(NO_RECORDED_INPUT);
      return;
    }
    const before = this.deployed(input);
    if ("notDecidable" in before || before.decided !== input.decided || before.workload !== input.workload) {
      this.notReproducible(notReproducedWhy(input, before));
      return;
    }
    const after = this.proposed(input);
    if ("notDecidable" in after) {
      this.notReproducible(after.notDecidable);
      return;
    }
    if (after.decided === input.decided) {
      this.unchanged++;
      return;
    }
    if (after.decided === "deny") this.allowToDeny++;
    else this.denyToAllow++;
    const workload = input.workload ?? after.workload ?? "(unregistered)";
    const key = JSON.stringify([workload, input.task, input.decided]);
    let change = this.changes.get(key);
    if (!change) {
      change = {
        workload,
        task: input.task,
        from: input.decided,
        to: after.decided,
        count: 0,
        policiesNow: new Set(),
        samples: [],
        why: new Set(),
      };
      this.changes.set(key, change);
    }
    change.count++;
    for (const id of after.policyIds) change.policiesNow.add(id);
    if (change.why.size < WHYS && after.why) change.why.add(after.why);
    if (change.samples.length < SAMPLES && event.decisionId) change.samples.push(event.decisionId);
  }

  result(period: { sinceMs: number; untilMs: number }): DecisionImpact {
    const byReason = [...this.reasons]
      .map(([reason, count]) => ({ reason, count }))
      .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
    const changes = [...this.changes.values()]
      .map((c) => ({ ...c, policiesNow: [...c.policiesNow].sort(), why: [...c.why].sort() }))
      .sort(
        (a, b) =>
          b.count - a.count ||
          a.workload.localeCompare(b.workload) ||
          a.task.localeCompare(b.task) ||
          a.from.localeCompare(b.from),
      );
    return {
      periodSince: new Date(period.sinceMs).toISOString(),
      periodUntil: new Date(period.untilMs).toISOString(),
      decisions: this.decisions,
      unchanged: this.unchanged,
      allowToDeny: this.allowToDeny,
      denyToAllow: this.denyToAllow,
      notReproducible: { count: byReason.reduce((n, r) => n + r.count, 0), byReason },
      changes,
    };
  }
}
