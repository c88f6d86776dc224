// Renders the governance report for people: a plain-text table layout for the terminal, or Markdown for a
// ticket or wiki page. The JSON form is the report object itself.
import type { GovernanceReport } from "../core/report/report-types.ts";
import { table } from "./io.ts";
import { debtSections } from "./report-render-debt.ts";

type Rows = Record<string, string>[];

interface Block {
  title: string;
  lines?: string[];
  rows?: Rows;
  columns?: string[];
  /** Shown instead of an empty table. */
  empty?: string;
}

export interface Section {
  heading: string;
  blocks: Block[];
}

const pct = (share: number | null) => (share === null ? "-" : `${Math.round(share * 100)}%`);
const num = (n: number | null) => (n === null ? "-" : String(n));

function sections(r: GovernanceReport): Section[] {
  const w = r.workloads;
  const x = r.exceptions;
  const a = r.activity;
  return [
    {
      heading: "Verdicts",
      blocks: [
        {
          title: "",
          rows: r.verdicts.map((v) => ({
            status: v.met ? "met" : "NOT MET",
            criterion: v.criterion,
            verdict: v.summary.replace(/^(not )?met: /, ""),
          })),
          columns: ["status", "criterion", "verdict"],
        },
      ],
    },
    ...debtSections(r),
    {
      heading: `Workloads (${w.total} configured)`,
      blocks: [
        {
          title: "Orphaned (no owner)",
          rows: w.orphaned.map((o) => ({
            workload: o.name,
            issuer: o.issuer,
            subject: o.subject,
            disabled: o.disabled ? "yes" : "no",
          })),
          columns: ["workload", "issuer", "subject", "disabled"],
          empty: "none",
        },
        {
          title: "Disabled but still configured",
          rows: w.disabled.map((o) => ({ workload: o.name, owner: o.owner ?? "(none)", subject: o.subject })),
          columns: ["workload", "owner", "subject"],
          empty: "none",
        },
        {
          title: `No grant in ${w.idleDays} days (candidates for removal)`,
          rows: w.idle.map((o) => ({
            workload: o.name,
            owner: o.owner ?? "(none)",
            "last grant": o.lastGrantAt ?? "never",
          })),
          columns: ["workload", "owner", "last grant"],
          empty: "none",
        },
      ],
    },
    {
      heading: `Exceptions (${x.total}: ${x.open} open, ${x.expiring} expiring within ${x.expiringWithinDays} days, ${x.expired} expired)`,
      blocks: [
        {
          title: "",
          rows: x.items.map((e) => ({
            policy: e.id,
            ticket: e.ticket,
            expires: e.expiresAt,
            status: e.status,
            "days left": String(e.daysLeft),
            where: `${e.file}:${e.line}`,
            grants: String(e.grants.count),
            "only it": String(e.grants.onlyThisException),
            workloads: e.grants.workloads.join(", "),
          })),
          columns: [
            "policy",
            "ticket",
            "expires",
            "status",
            "days left",
            "where",
            "grants",
            "only it",
            "workloads",
          ],
          empty: "no exceptions in the policy files",
        },
      ],
    },
    {
      heading: `Broad tasks (${r.broadTasks.length})`,
      blocks: [
        {
          title: "",
          rows: r.broadTasks.flatMap((t) =>
            t.findings.map((f) => ({
              task: t.task,
              sensitivity: t.sensitivity,
              where: f.where,
              why: f.reason,
            })),
          ),
          columns: ["task", "sensitivity", "where", "why"],
          empty: "none",
        },
      ],
    },
    {
      heading: `Denials (${r.denials.total} in the period)`,
      blocks: [
        {
          title: "",
          rows: r.denials.byWorkload.flatMap((d) =>
            d.reasons.map((reason, i) => ({
              workload: i === 0 ? d.workload : "",
              total: i === 0 ? String(d.count) : "",
              tasks: i === 0 ? d.tasks.join(", ") : "",
              count: String(reason.count),
              reason: reason.reason,
            })),
          ),
          columns: ["workload", "total", "tasks", "count", "reason"],
          empty: "none",
        },
      ],
    },
    {
      heading: "Grant activity",
      blocks: [
        {
          title: "",
          lines: [
            `issued ${a.issued}, expired ${a.expired}, revoked ${a.revoked.total} (released by the workload ${a.released}), failed ${a.failed}; released early: ${pct(a.releasedShare)}`,
          ],
        },
        {
          title: "By task",
          rows: a.byTask.map((t) => ({
            task: t.task,
            issued: String(t.issued),
            expired: String(t.expired),
            revoked: String(t.revoked),
            released: String(t.released),
            "median granted s": num(t.medianDurationSeconds),
            "max granted s": num(t.maxDurationSeconds),
            "median lived s": num(t.medianLivedSeconds),
            "released early": pct(t.releasedShare),
          })),
          columns: [
            "task",
            "issued",
            "expired",
            "revoked",
            "released",
            "median granted s",
            "max granted s",
            "median lived s",
            "released early",
          ],
          empty: "no grant activity",
        },
        {
          title: "Revocations by reason",
          rows: a.revoked.byReason.map((b) => ({ reason: b.reason, count: String(b.count) })),
          columns: ["reason", "count"],
          empty: "none",
        },
      ],
    },
    approvalsSection(r),
    taskEndSection(r),
  ];
}

const title = (r: GovernanceReport) =>
  `credbroker report: ${r.period.since} to ${r.period.until} (${r.period.days} days), config ${r.configVersion}`;

export function renderText(r: GovernanceReport): string {
  const out: string[] = [`${title(r)}\n`];
  for (const s of sections(r)) {
    const [name, detail] = s.heading.split(/ (?=\()/, 2);
    out.push(`\n${name!.toUpperCase()}${detail ? ` ${detail}` : ""}\n`);
    for (const b of s.blocks) {
      if (b.title) out.push(`${b.title}:\n`);
      for (const l of b.lines ?? []) out.push(`${l}\n`);
      if (b.rows && b.columns) {
        const body = b.rows.length === 0 && b.empty ? `(${b.empty})\n` : table(b.rows, b.columns);
        out.push(body.replace(/^/gm, "  ").replace(/ +$/gm, ""));
      }
    }
  }
  return out.join("");
}

const cell = (s: string) => s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\n/g, " ");

function markdownTable(rows: Rows, columns: string[]): string {
  const head = `| ${columns.join(" | ")} |\n| ${columns.map(() => "---").join(" | ")} |\n`;
  return head + rows.map((r) => `| ${columns.map((c) => cell(r[c] ?? "")).join(" | ")} |\n`).join("");
}

export function renderMarkdown(r: GovernanceReport): string {
  const out: string[] = [
    "# credbroker report\n\n",
    `Period ${r.period.since} to ${r.period.until} (${r.period.days} days), config \`${r.configVersion}\`, generated ${r.generatedAt}.\n`,
  ];
  for (const s of sections(r)) {
    out.push(`\n## ${s.heading}\n`);
    for (const b of s.blocks) {
      if (b.title) out.push(`\n### ${b.title}\n`);
      for (const l of b.lines ?? []) out.push(`\n${l}\n`);
      if (b.rows && b.columns)
        out.push(
          b.rows.length === 0 && b.empty ? `\n_${b.empty}_\n` : `\n${markdownTable(b.rows, b.columns)}`,
        );
    }
  }
  return out.join("");
}

function taskEndSection(r: GovernanceReport): Section {
  const t = r.taskEnd;
  return {
    heading: `Task end (${t.grantsEnded} grants ended with their CI task)`,
    blocks: [
      {
        title: "",
        lines: [
          `events acted on: ${t.events}; grants ended by a task's end: ${t.grantsEnded}; token requests refused after their task ended: ${t.deniedAfterEnd}; released by the workload before the end: ${t.releasedBeforeEnd}`,
        ],
      },
    ],
  };
}

function approvalsSection(r: GovernanceReport): Section {
  const p = r.approvals;
  return {
    heading: `Approvals (${p.pending} pending now)`,
    blocks: [
      {
        title: "",
        lines: [
          `requested in the period: approved ${p.approved}, denied ${p.denied}, lapsed ${p.lapsed}; median time to decision: ${p.medianSecondsToDecision === null ? "-" : `${p.medianSecondsToDecision} s`}`,
        ],
      },
      {
        title: "By task",
        rows: p.byTask.map((t) => ({
          task: t.task,
          requested: String(t.requested),
          pending: String(t.pending),
          approved: String(t.approved),
          denied: String(t.denied),
          lapsed: String(t.lapsed),
          "median s to decision": num(t.medianSecondsToDecision),
        })),
        columns: ["task", "requested", "pending", "approved", "denied", "lapsed", "median s to decision"],
        empty: "no approval requests",
      },
    ],
  };
}
