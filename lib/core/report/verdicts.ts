// One verdict per exit criterion: met or not, and by how much. The clean-up is done when every verdict
// is met; each target is the end state (zero debt) except the early-release share, which is a floor.
import type {
  ActivitySection,
  BroadTask,
  DenialsSection,
  ExceptionSection,
  ReportOptions,
  Verdict,
  WorkloadSection,
} from "./report-types.ts";

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function atMost(
  criterion: string,
  title: string,
  actual: number,
  target: number,
  what: (n: number) => string,
  extra = "",
): Verdict {
  const met = actual <= target;
  const gap = met ? 0 : actual - target;
  const summary = met
    ? `met: ${what(actual)}${extra}`
    : `not met: ${what(actual)}${extra}, ${gap} over the target of ${target}`;
  return { criterion, title, met, actual, target, bound: "max", gap, summary };
}

export interface VerdictInputs {
  workloads: WorkloadSection;
  exceptions: ExceptionSection;
  broadTasks: BroadTask[];
  denials: DenialsSection;
  activity: ActivitySection;
  options: ReportOptions;
}

export function verdicts(i: VerdictInputs): Verdict[] {
  const exceptionOnly = i.exceptions.items.reduce((n, e) => n + e.grants.onlyThisException, 0);
  const out: Verdict[] = [
    atMost("orphaned-workloads", "Every workload has an owner", i.workloads.orphaned.length, 0, (n) =>
      plural(n, "orphaned workload"),
    ),
    atMost(
      "disabled-workloads",
      "No disabled workload is still configured",
      i.workloads.disabled.length,
      0,
      (n) => plural(n, "disabled workload"),
    ),
    atMost(
      "idle-workloads",
      `Every enabled workload was granted something in the last ${i.workloads.idleDays} days`,
      i.workloads.idle.length,
      0,
      (n) => `${plural(n, "workload")} without a grant in ${i.workloads.idleDays} days`,
    ),
    atMost(
      "expired-exceptions",
      "No expired exception is left in the policy files",
      i.exceptions.expired,
      0,
      (n) => plural(n, "expired exception"),
    ),
    atMost(
      "open-exceptions",
      "No exception is open",
      i.exceptions.open,
      0,
      (n) => plural(n, "open exception"),
      i.exceptions.expiring > 0
        ? ` (${i.exceptions.expiring} expiring within ${i.exceptions.expiringWithinDays} days)`
        : "",
    ),
    atMost(
      "exception-grants",
      "No grant in the period was allowed by an exception alone",
      exceptionOnly,
      0,
      (n) => plural(n, "grant"),
    ),
    atMost("broad-tasks", "No task has a broad session policy or scope", i.broadTasks.length, 0, (n) =>
      plural(n, "broad task"),
    ),
    atMost(
      "denied-workloads",
      "No workload was denied in the period",
      i.denials.byWorkload.length,
      0,
      (n) => plural(n, "workload"),
      i.denials.total > 0 ? ` denied (${plural(i.denials.total, "denial")})` : " denied",
    ),
  ];
  out.push(releaseVerdict(i.activity, i.options.releaseShareTarget));
  return out;
}

function releaseVerdict(activity: ActivitySection, target: number): Verdict {
  const targetPct = Math.round(target * 100);
  const title = `At least ${targetPct}% of grants are released early by their workload`;
  const base = { criterion: "early-release", title, target: targetPct, bound: "min" as const };
  if (activity.releasedShare === null)
    return {
      ...base,
      met: true,
      actual: 0,
      gap: 0,
      summary: "met: nothing to measure (no grant issued in the period)",
    };
  const actual = Math.round(activity.releasedShare * 100);
  const met = actual >= targetPct;
  const what = `${actual}% released early (${activity.released} of ${activity.issued})`;
  return {
    ...base,
    met,
    actual,
    gap: met ? 0 : targetPct - actual,
    summary: met
      ? `met: ${what}`
      : `not met: ${what}, ${targetPct - actual} points under the target of ${targetPct}%`,
  };
}
