// Assembles the governance report from its inputs; pure, so tests give it a seeded period and a fixed time.
import type { BrokerConfig } from "../../config/schema.ts";
import type { ApprovalRequest } from "../approvals/request.ts";
import type { AuditEvent } from "../audit.ts";
import { createWorkloadMatcher } from "../identity/workloads.ts";
import type { DebtSection } from "../inventory/debt.ts";
import type { CompiledPolicies } from "../policy/policy-set.ts";
import { activitySection } from "./activity.ts";
import { approvalSection } from "./approvals.ts";
import { broadTasks } from "./broad-tasks.ts";
import { activityByDay } from "./by-day.ts";
import type { PeriodCounts } from "./day-summary.ts";
import { denialSection } from "./denials.ts";
import { exceptionSection } from "./exceptions.ts";
import {
  activityFromCounts,
  byDayFromCounts,
  denialsFromCounts,
  exceptionsFromCounts,
  taskEndFromCounts,
} from "./from-counts.ts";
import {
  DEFAULT_REPORT_OPTIONS,
  type GovernanceReport,
  REPORT_VERSION,
  type ReportOptions,
} from "./report-types.ts";
import { taskEndSection } from "./task-end.ts";
import { verdicts } from "./verdicts.ts";
import { workloadSection } from "./workloads.ts";

export interface ReportInputs {
  config: BrokerConfig;
  policies: CompiledPolicies;
  configVersion: string;
  /** Audit events with time in [sinceMs, untilMs]; or, instead, their counts (`counts`). */
  events?: readonly AuditEvent[];
  /** The period's events as merged day summaries (day-summary.ts): the same report without the events. */
  counts?: PeriodCounts;
  /** Each configured workload's newest grant (issuedAt), or undefined when it has none. */
  lastGrantAt: ReadonlyMap<string, string | undefined>;
  sinceMs: number;
  untilMs: number;
  nowMs: number;
  options?: Partial<ReportOptions>;
  /** The inventory's debt (CONTRACT §9); an empty section before the first sync. */
  debt?: DebtSection;
  /** Approval requests made in the period, and those pending now (CONTRACT §10). */
  approvals?: { requested: readonly ApprovalRequest[]; pending: readonly ApprovalRequest[] };
}

export function buildReport(input: ReportInputs): GovernanceReport {
  const options = { ...DEFAULT_REPORT_OPTIONS, ...input.options };
  const workloads = workloadSection(input.config.workloads, input.lastGrantAt, input.nowMs, options.idleDays);
  const matcher = createWorkloadMatcher(input.config.workloads);
  const { counts } = input;
  const events = input.events ?? [];
  const exceptions = counts
    ? exceptionsFromCounts(input.policies, counts.exceptions, input.nowMs, options.expiringWithinDays)
    : exceptionSection(input.policies, events, input.nowMs, options.expiringWithinDays);
  const broad = broadTasks(input.config.tasks);
  const denials = counts ? denialsFromCounts(counts.denials, matcher) : denialSection(events, matcher);
  const activity = counts
    ? {
        ...activityFromCounts(counts.activity),
        byDay: byDayFromCounts(counts.byDay, input.sinceMs, input.untilMs),
      }
    : { ...activitySection(events), byDay: activityByDay(events, input.sinceMs, input.untilMs) };
  return {
    reportVersion: REPORT_VERSION,
    generatedAt: new Date(input.nowMs).toISOString(),
    configVersion: input.configVersion,
    period: {
      since: new Date(input.sinceMs).toISOString(),
      until: new Date(input.untilMs).toISOString(),
      days: Math.round(((input.untilMs - input.sinceMs) / 86_400_000) * 10) / 10,
    },
    workloads,
    exceptions,
    broadTasks: broad,
    denials,
    activity,
    verdicts: verdicts({ workloads, exceptions, broadTasks: broad, denials, activity, options }),
    debt: input.debt ?? { snapshotTime: null, accounts: [], verdicts: [], trend: [] },
    approvals: approvalSection(input.approvals?.requested ?? [], input.approvals?.pending ?? [], input.nowMs),
    taskEnd: counts ? taskEndFromCounts(counts.taskEnd, input.config) : taskEndSection(events, input.config),
  };
}
