// What the report views render: the core report (lib/core/report) plus the sections other capabilities
// add to it. `debt` (CONTRACT §9) and `approvals` (§10) are typed here exactly as the contract pins their
// JSON, optional: until the inventory and approvals land in the report, the views show an explicit empty
// state, and once `report --json` carries them the same object renders without any change here.
import type { GovernanceReport } from "../../core/report/report-types.ts";

export const DEBT_CRITERIA = [
  "privileged-unreviewed",
  "orphaned-principals",
  "stale-principals",
  "long-lived-keys",
  "broker-bypass",
  "static-secrets",
] as const;

/** CONTRACT §9: `debt.verdicts[]`; `long-lived-keys` also carries the three key counts. */
export interface DebtVerdict {
  criterion: string;
  met: boolean;
  actual: number;
  target: number;
  items: { arn: string; why: string }[];
  replaced?: number;
  unreplaced?: number;
  stillUsedAfterReplacement?: number;
  /** static-secrets (CONTRACT §15): its counts, and the served secrets whose copies may live on. */
  brokered?: number;
  rotatedAfterUse?: number;
  exposed?: number;
  notes?: { arn: string; why: string }[];
}

/** CONTRACT §9: `debt` in `report --json`. Accounts are per-account verdicts; their shape is not pinned. */
export interface DebtSection {
  /** null before the first inventory sync. */
  snapshotTime: string | null;
  accounts: Record<string, unknown>[];
  verdicts: DebtVerdict[];
  trend: { snapshotTime: string; counts: Record<string, number> }[];
}

/** CONTRACT §10: `approvals` in `report --json` (requests made in the period; `pending` as of now). */
export interface ApprovalsSection {
  pending: number;
  approved: number;
  denied: number;
  lapsed: number;
  medianSecondsToDecision: number | null;
  /** Not pinned beyond its name: rendered as a table of whatever per-task counts it holds. */
  byTask: Record<string, unknown>[] | Record<string, Record<string, unknown>>;
}

/** CONTRACT §10: one item of `GET /approvals` (a pending request). */
export interface PendingApproval {
  approvalId: string;
  workload: string;
  task: string;
  purpose: string;
  requestedAt: string;
  expiresAt: string;
  approvals: number;
  needed: number;
}

// The core report's own `approvals` (lib/core/report/approvals.ts) is one shape of this section.
export type ReportViewInput = Omit<GovernanceReport, "approvals" | "taskEnd"> & {
  /** CONTRACT §13; absent in reports made before it. */
  taskEnd?: GovernanceReport["taskEnd"] | null;
  debt?: DebtSection | null;
  approvals?: ApprovalsSection | null;
  /** The pending requests themselves, when the caller can list them (the console's approvals source). */
  pendingApprovals?: PendingApproval[] | null;
};
