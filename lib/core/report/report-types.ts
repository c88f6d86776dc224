// The JSON document of `credbroker report --json` (documented in docs/governance.md). Every section is
// computed from the config, the compiled policies, the audit events of the period and each workload's
// newest grant; nothing here reads the clock or the store. `debt` comes from the inventory (CONTRACT §9).
import type { DebtSection } from "../inventory/debt.ts";
import type { TaskEndSection } from "./task-end.ts";

export const REPORT_VERSION = 1;

export interface ReportOptions {
  /** A workload with no grant for this many days is a candidate for removal. */
  idleDays: number;
  /** An open exception whose @expires falls within this many days is "expiring". */
  expiringWithinDays: number;
  /** The share of grants a workload should release itself before they expire (0..1). */
  releaseShareTarget: number;
}

export const DEFAULT_REPORT_OPTIONS: ReportOptions = {
  idleDays: 30,
  expiringWithinDays: 14,
  releaseShareTarget: 0.5,
};

export interface WorkloadRef {
  name: string;
  issuer: string;
  subject: string;
  owner: string | null;
  disabled: boolean;
}

export interface IdleWorkload extends WorkloadRef {
  /** The newest grant's issuedAt, or null when the table holds none (never used, or past retention). */
  lastGrantAt: string | null;
}

export interface WorkloadSection {
  total: number;
  idleDays: number;
  orphaned: WorkloadRef[];
  disabled: WorkloadRef[];
  idle: IdleWorkload[];
}

export type ExceptionStatus = "open" | "expiring" | "expired";

export interface ExceptionItem {
  id: string;
  ticket: string;
  expiresAt: string;
  file: string;
  line: number;
  status: ExceptionStatus;
  /** Whole days until @expires (negative once past). */
  daysLeft: number;
  grants: {
    /** Grants issued in the period whose deciding policies include this exception. */
    count: number;
    /** Of those, grants that this exception alone allowed (the sweep revokes them once it expires). */
    onlyThisException: number;
    workloads: string[];
    grantIds: string[];
  };
}

export interface ExceptionSection {
  total: number;
  expiringWithinDays: number;
  /** Not yet expired (includes the expiring ones). */
  open: number;
  expiring: number;
  expired: number;
  items: ExceptionItem[];
}

export interface BroadFinding {
  /** "Statement[0]" (with its Sid when it has one), "managedPolicyArns[1]", "scopes" or "sessionPolicy". */
  where: string;
  /** What makes it broad, e.g. "action iam:*", "resource *", "NotAction". */
  reason: string;
}

export interface BroadTask {
  task: string;
  provider: string;
  sensitivity: string;
  findings: BroadFinding[];
}

export interface DenialsSection {
  total: number;
  byWorkload: {
    /** The workload name, or "unregistered:<subject>" when no workload matched. */
    workload: string;
    count: number;
    tasks: string[];
    lastAt: string;
    reasons: { reason: string; count: number }[];
  }[];
  /** The same denials by reason across workloads, most frequent first. */
  byReason: { reason: string; count: number }[];
}

export interface TaskActivity {
  task: string;
  issued: number;
  expired: number;
  revoked: number;
  released: number;
  failed: number;
  /** The duration grants were issued for (granted), median and longest. */
  medianDurationSeconds: number | null;
  maxDurationSeconds: number | null;
  /**
   * How long grants were live, from issue to expiry, revocation or release: the median over the grants
   * issued and ended in the period (null when none ended in it).
   */
  medianLivedSeconds: number | null;
  /** released / issued over the period, or null when nothing was issued. */
  releasedShare: number | null;
}

export interface ActivitySection {
  issued: number;
  expired: number;
  /** Every revocation, releases included (a released grant ends in status revoked, reason "released"). */
  revoked: { total: number; byReason: { reason: string; count: number }[] };
  released: number;
  failed: number;
  releasedShare: number | null;
  byTask: TaskActivity[];
  /** Every UTC day of the period, oldest first: the grants over time the HTML report charts. */
  byDay: DayActivity[];
}

/** One UTC day's events by outcome (`revoked` excludes releases, which are counted as `released`). */
export interface DayActivity {
  day: string;
  issued: number;
  expired: number;
  revoked: number;
  released: number;
  failed: number;
  denied: number;
}

export interface Verdict {
  criterion: string;
  title: string;
  met: boolean;
  actual: number;
  target: number;
  /** "max": met when actual <= target; "min": met when actual >= target. */
  bound: "max" | "min";
  /** How far from the target (0 when met). */
  gap: number;
  summary: string;
}

/** Human approval (CONTRACT §10): requests made in the period, by where they ended; `pending` as of now. */
// A type alias, not an interface: the console reads these rows as plain records.
export type ApprovalTaskCounts = {
  task: string;
  requested: number;
  pending: number;
  approved: number;
  denied: number;
  lapsed: number;
  medianSecondsToDecision: number | null;
};

export interface ApprovalsSection {
  pending: number;
  approved: number;
  denied: number;
  lapsed: number;
  /** From request to the deciding approval or denial, over the period's decided requests; null when none. */
  medianSecondsToDecision: number | null;
  byTask: ApprovalTaskCounts[];
}

export interface GovernanceReport {
  reportVersion: typeof REPORT_VERSION;
  generatedAt: string;
  configVersion: string;
  period: { since: string; until: string; days: number };
  workloads: WorkloadSection;
  exceptions: ExceptionSection;
  broadTasks: BroadTask[];
  denials: DenialsSection;
  activity: ActivitySection;
  verdicts: Verdict[];
  debt: DebtSection;
  approvals: ApprovalsSection;
  /** CONTRACT §13: CI task ends and findings acted on in the period. */
  taskEnd: TaskEndSection;
}
