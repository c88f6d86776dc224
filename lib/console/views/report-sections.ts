// The report as HTML sections: verdict cards, the debt (CONTRACT §9), grants over time, denials by reason,
// exceptions on a timeline of their expiry, approvals (§10) and the detail tables. Every number is in
// the markup, so the page reads without script and prints; the charts are drawn by the browser code from
// the same report object, embedded as JSON.

import { type Html, type HtmlValue, html } from "./html.ts";
import {
  DEBT_CRITERIA,
  type DebtSection,
  type PendingApproval,
  type ReportViewInput,
} from "./report-input.ts";
import { dataTable } from "./table.ts";

const pct = (share: number | null) => (share === null ? "–" : `${Math.round(share * 100)}%`);
const num = (n: number | null | undefined) => (n === null || n === undefined ? "–" : String(n));
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
/** Verdicts whose actual and target are percentages. */
const PERCENT_CRITERIA = new Set(["early-release"]);

function status(met: boolean): Html {
  return met ? html`<span class="badge met">met</span>` : html`<span class="badge unmet">not met</span>`;
}

function card(v: {
  criterion: string;
  title: string;
  met: boolean;
  actual: number;
  target: number;
  gap: number;
  detail?: HtmlValue;
}): Html {
  const unit = PERCENT_CRITERIA.has(v.criterion) ? "%" : "";
  return html`<article class="card ${v.met ? "met" : "unmet"}" aria-labelledby="v-${v.criterion}">
<header><h3 id="v-${v.criterion}">${v.title}</h3>${status(v.met)}</header>
<p class="criterion"><code>${v.criterion}</code></p>
<dl><div><dt>actual</dt><dd>${v.actual}${unit}</dd></div><div><dt>target</dt><dd>${v.target}${unit}</dd></div><div><dt>gap</dt><dd>${v.gap}${unit}</dd></div></dl>
${v.detail ? html`<p class="detail">${v.detail}</p>` : ""}
</article>`;
}

function section(id: string, title: string, body: HtmlValue): Html {
  return html`<section id="${id}" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${body}</section>`;
}

function verdicts(r: ReportViewInput): Html {
  return section(
    "verdicts",
    "Verdicts",
    html`<div class="cards">${r.verdicts.map((v) =>
      card({ ...v, detail: v.summary.replace(/^(not )?met: /, "") }),
    )}</div>`,
  );
}

const DEBT_TITLES: Record<string, string> = {
  "privileged-unreviewed": "Privileged principals reviewed",
  "orphaned-principals": "Every IAM principal owned",
  "stale-principals": "No stale IAM principals",
  "long-lived-keys": "No long-lived access keys",
  "broker-bypass": "No task role or brokered secret bypasses the broker",
  "static-secrets": "Every static secret brokered and rotated",
};

function debt(d: DebtSection | null | undefined): Html {
  if (!d || d.snapshotTime === null)
    return section(
      "debt",
      "IAM debt",
      html`<p class="empty" id="debt-empty">No inventory synced yet: the debt appears here after <code>credbroker inventory sync</code>.</p>`,
    );
  const criteria = [...new Set([...DEBT_CRITERIA, ...d.trend.flatMap((t) => Object.keys(t.counts))])].filter(
    (c) => d.trend.some((t) => c in t.counts),
  );
  return section(
    "debt",
    "IAM debt",
    html`<p>Newest snapshot <time datetime="${d.snapshotTime}">${d.snapshotTime}</time>.</p>
<div class="cards">${d.verdicts.map((v) =>
      card({
        criterion: v.criterion,
        title: DEBT_TITLES[v.criterion] ?? v.criterion,
        met: v.met,
        actual: v.actual,
        target: v.target,
        gap: Math.max(0, v.actual - v.target),
        detail:
          v.criterion === "long-lived-keys"
            ? `${num(v.replaced)} replaced, ${num(v.unreplaced)} unreplaced, ${num(v.stillUsedAfterReplacement)} still used after replacement`
            : v.criterion === "static-secrets"
              ? secretDetail(v)
              : undefined,
      }),
    )}</div>
<figure class="chart-figure"><div class="chart" data-chart="debt-trend" role="img" aria-label="Debt per criterion at each snapshot (the table below holds the numbers)"></div>
<figcaption>Debt trend, one line per criterion</figcaption></figure>
${dataTable({
  caption: "Debt at each snapshot",
  columns: [{ label: "snapshot" }, ...criteria.map((c) => ({ label: c, numeric: true }))],
  rows: d.trend.map((t) => [t.snapshotTime, ...criteria.map((c) => num(t.counts[c]))]),
  empty: "no snapshots kept",
})}
${dataTable({
  caption: "What is left",
  columns: [{ label: "criterion" }, { label: "principal" }, { label: "why" }],
  rows: d.verdicts.flatMap((v) =>
    [...v.items, ...(v.notes ?? [])].map((i) => [v.criterion, html`<code>${i.arn}</code>`, i.why]),
  ),
  empty: "nothing left: every debt criterion is at zero",
})}`,
  );
}

/** The static-secrets verdict's own counts (CONTRACT §15). */
export const secretDetail = (v: { brokered?: number; rotatedAfterUse?: number; exposed?: number }) =>
  `${num(v.brokered)} brokered, ${num(v.rotatedAfterUse)} rotated after use, ${num(v.exposed)} exposed to principals other than the broker`;

function grantsOverTime(r: ReportViewInput): Html {
  const a = r.activity;
  return section(
    "activity",
    "Grants over time",
    html`<p>Issued ${a.issued}, expired ${a.expired}, revoked ${a.revoked.total} (released by the workload ${a.released}), failed ${a.failed}; released early: ${pct(a.releasedShare)}.</p>
<figure class="chart-figure"><div class="chart" data-chart="grants-by-day" role="img" aria-label="Grants per day by outcome (the table below holds the numbers)"></div>
<figcaption>Grants per UTC day by outcome</figcaption></figure>
<p class="note">Per task below: <em>granted</em> is the duration a grant was issued for; <em>lived</em> is how long it was live, from issue until it expired or was revoked or released (grants that ended in the period).</p>
${dataTable({
  caption: "Days with activity (the chart shows every day of the period)",
  id: "grants-by-day",
  columns: ["day", "issued", "expired", "revoked", "released", "failed", "denied"].map((l, i) => ({
    label: l,
    numeric: i > 0,
  })),
  rows: a.byDay
    .filter((d) => d.issued + d.expired + d.revoked + d.released + d.failed + d.denied > 0)
    .map((d) => [d.day, d.issued, d.expired, d.revoked, d.released, d.failed, d.denied]),
  empty: "no grant activity in the period",
})}
${dataTable({
  caption: "Grant activity by task",
  columns: [
    { label: "task" },
    ...[
      "issued",
      "expired",
      "revoked",
      "released",
      "failed",
      "median granted (s)",
      "longest granted (s)",
      "median lived (s)",
      "released early",
    ].map((label) => ({ label, numeric: true })),
  ],
  rows: a.byTask.map((t) => [
    t.task,
    t.issued,
    t.expired,
    t.revoked,
    t.released,
    t.failed,
    num(t.medianDurationSeconds),
    num(t.maxDurationSeconds),
    num(t.medianLivedSeconds),
    { value: pct(t.releasedShare), sort: t.releasedShare ?? -1 },
  ]),
  empty: "no grant activity in the period",
})}
${dataTable({
  caption: "Revocations by reason",
  columns: [{ label: "reason" }, { label: "count", numeric: true }],
  rows: a.revoked.byReason.map((b) => [b.reason, b.count]),
  empty: "no revocations in the period",
})}`,
  );
}

function bar(value: number, max: number): Html {
  const width = max === 0 ? 0 : Math.max(2, Math.round((value / max) * 200));
  return html`<svg class="bar" width="204" height="14" viewBox="0 0 204 14" aria-hidden="true"><rect x="0" y="1" width="${width}" height="12"></rect></svg>`;
}

function denials(r: ReportViewInput): Html {
  const d = r.denials;
  const max = Math.max(0, ...d.byReason.map((x) => x.count));
  return section(
    "denials",
    "Denials by reason",
    html`<p>${plural(d.total, "denied request")} in the period.</p>
${dataTable({
  caption: "Denials by reason",
  id: "denials-by-reason",
  columns: [{ label: "reason" }, { label: "count", numeric: true }, { label: "share" }],
  rows: d.byReason.map((x) => [x.reason, x.count, { value: bar(x.count, max), sort: x.count }]),
  empty: "no denials in the period",
})}
${dataTable({
  caption: "Denials by workload",
  columns: [
    { label: "workload" },
    { label: "denials", numeric: true },
    { label: "tasks" },
    { label: "last" },
    { label: "reasons" },
  ],
  rows: d.byWorkload.map((w) => [
    w.workload,
    w.count,
    w.tasks.join(", "),
    w.lastAt,
    w.reasons.map((x) => `${x.count}× ${x.reason}`).join("; "),
  ]),
  empty: "no denials in the period",
})}`,
  );
}

/**
 * Each exception as a mark at its @expires on one time axis, with today drawn across. "today" is written
 * above the rows and the period's ends below them, so no two labels share a line; the axis stops short of
 * the right edge by the width of an expiry label, so the label of the latest mark is not cut off.
 */
function exceptionTimeline(r: ReportViewInput, nowMs: number): Html {
  const items = [...r.exceptions.items].sort((a, b) => a.expiresAt.localeCompare(b.expiresAt));
  if (items.length === 0) return html``;
  const DAY = 86_400_000;
  const times = items.map((e) => Date.parse(e.expiresAt));
  const from = Math.min(nowMs - 7 * DAY, ...times) - DAY;
  const to = Math.max(nowMs + 7 * DAY, ...times) + DAY;
  const left = 260;
  const width = 900;
  /** Room right of the axis for "2027-03-31 (expiring)". */
  const labelRoom = 190;
  const right = width - labelRoom;
  const row = 26;
  const top = 30;
  const x = (t: number) => left + ((t - from) / (to - from)) * (right - left);
  const height = top + items.length * row + 24;
  const nowX = x(nowMs);
  return html`<figure class="timeline-figure"><svg class="timeline" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="exc-tl-title">
<title id="exc-tl-title">Exceptions by expiry: ${items.map((e) => `${e.ticket} ${e.status} (${e.expiresAt})`).join(", ")}</title>
<text class="axis" x="${nowX}" y="12" text-anchor="middle">today</text>
<line class="now" x1="${nowX}" x2="${nowX}" y1="18" y2="${height - 24}"></line>
<line class="axis-line" x1="${left}" x2="${right}" y1="${height - 24}" y2="${height - 24}"></line>
<text class="axis" x="${left}" y="${height - 8}">${new Date(from).toISOString().slice(0, 10)}</text>
<text class="axis" x="${right}" y="${height - 8}" text-anchor="end">${new Date(to).toISOString().slice(0, 10)}</text>
${items.map((e, i) => {
  const y = top + i * row;
  const ex = x(Date.parse(e.expiresAt));
  return html`<g class="exc ${e.status}"><text class="label" x="${left - 8}" y="${y + 4}" text-anchor="end">${e.ticket} · ${e.id}</text>
<line class="span" x1="${Math.min(nowX, ex)}" x2="${Math.max(nowX, ex)}" y1="${y}" y2="${y}"></line>
<circle cx="${ex}" cy="${y}" r="6"><title>${e.id} (${e.ticket}) expires ${e.expiresAt}: ${e.status}, ${plural(e.daysLeft, "day")} left</title></circle>
<text class="when" x="${ex + 10}" y="${y + 4}">${e.expiresAt.slice(0, 10)} (${e.status})</text></g>`;
})}
</svg><figcaption>Exceptions on a timeline of their expiry: open, <span class="key expiring">expiring</span> within ${r.exceptions.expiringWithinDays} days, <span class="key expired">expired</span></figcaption></figure>`;
}

function exceptions(r: ReportViewInput, nowMs: number): Html {
  const x = r.exceptions;
  return section(
    "exceptions",
    "Exceptions",
    html`<p>${plural(x.total, "exception")}: ${x.open} open, ${x.expiring} expiring within ${x.expiringWithinDays} days, ${x.expired} expired.</p>
${exceptionTimeline(r, nowMs)}
${dataTable({
  caption: "Exceptions",
  id: "exceptions-table",
  columns: [
    { label: "policy" },
    { label: "ticket" },
    { label: "expires" },
    { label: "status" },
    { label: "days left", numeric: true },
    { label: "where" },
    { label: "grants", numeric: true },
    { label: "only it", numeric: true },
    { label: "workloads" },
  ],
  rows: x.items.map((e) => [
    e.id,
    e.ticket,
    e.expiresAt,
    e.status,
    e.daysLeft,
    `${e.file}:${e.line}`,
    e.grants.count,
    e.grants.onlyThisException,
    e.grants.workloads.join(", "),
  ]),
  empty: "no exceptions in the policy files",
})}`,
  );
}

function byTaskRows(byTask: NonNullable<ReportViewInput["approvals"]>["byTask"]): Record<string, unknown>[] {
  if (Array.isArray(byTask)) return byTask;
  return Object.entries(byTask ?? {}).map(([task, counts]) => ({ task, ...counts }));
}

/** The pending requests as `GET /approvals` lists them: one table for the report page and the console. */
export function pendingApprovalsTable(pending: PendingApproval[], empty: string): Html {
  return dataTable({
    caption: "Pending approvals",
    id: "pending-approvals",
    columns: [
      { label: "approval" },
      { label: "workload" },
      { label: "task" },
      { label: "purpose" },
      { label: "requested" },
      { label: "expires" },
      { label: "approvals", numeric: true },
      { label: "needed", numeric: true },
    ],
    rows: pending.map((p) => [
      html`<code>${p.approvalId}</code>`,
      p.workload,
      p.task,
      p.purpose,
      p.requestedAt,
      p.expiresAt,
      p.approvals,
      p.needed,
    ]),
    empty,
  });
}

/** Headers of the approvals-by-task table, in words (the report's keys are for machines). */
const APPROVAL_COLUMNS: Record<string, string> = {
  task: "task",
  requested: "requested",
  pending: "pending",
  approved: "approved",
  denied: "denied",
  lapsed: "lapsed",
  medianSecondsToDecision: "median time to a decision (s)",
};

function approvals(r: ReportViewInput): Html {
  const a = r.approvals;
  const pending = r.pendingApprovals ?? [];
  const list = pendingApprovalsTable(pending, a ? `${a.pending} pending` : "");
  // The core report always carries the section; with no request in it and none pending it is the empty state.
  const noRequests = !a || (byTaskRows(a.byTask).length === 0 && a.pending === 0);
  if (noRequests && pending.length === 0)
    return section(
      "approvals",
      "Pending approvals",
      html`<p class="empty" id="approvals-empty">No approvals configured: no task requires human approval, so nothing is pending.</p>`,
    );
  const rows = a ? byTaskRows(a.byTask) : [];
  const keys = [...new Set(rows.flatMap((x) => Object.keys(x)))];
  const label = (k: string) => APPROVAL_COLUMNS[k] ?? k.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
  return section(
    "approvals",
    "Pending approvals",
    html`${a ? html`<p>In the period: ${a.pending} pending, ${a.approved} approved, ${a.denied} denied, ${a.lapsed} lapsed; median time to a decision ${a.medianSecondsToDecision === null ? "–" : `${a.medianSecondsToDecision} s`}.</p>` : ""}
${pending.length > 0 || !a ? list : ""}
${dataTable({
  caption: "Approvals by task",
  columns: keys.map((k) => ({
    label: label(k),
    numeric: rows.every((x) => typeof x[k] === "number" || x[k] === undefined),
  })),
  rows: rows.map((x) => keys.map((k) => (x[k] === undefined || x[k] === null ? "" : String(x[k])))),
  empty: "no approval requests in the period",
})}`,
  );
}

/** CONTRACT §13: grants that ended with their CI task, and tokens refused once it had. */
function taskEnd(r: ReportViewInput): Html {
  const t = r.taskEnd;
  if (!t)
    return section("task-end", "Task end", html`<p class="empty">No task-end events in this report.</p>`);
  return section(
    "task-end",
    "Task end",
    html`<dl class="task-end"><div><dt>events acted on</dt><dd id="task-end-events">${t.events}</dd></div><div><dt>grants ended with their task</dt><dd id="task-end-ended">${t.grantsEnded}</dd></div><div><dt>requests refused after the end</dt><dd id="task-end-denied">${t.deniedAfterEnd}</dd></div><div><dt>released before the end</dt><dd id="task-end-released">${t.releasedBeforeEnd}</dd></div></dl>`,
  );
}

function workloads(r: ReportViewInput): Html {
  const w = r.workloads;
  return section(
    "workloads",
    `Workloads (${w.total} configured)`,
    html`${dataTable({
      caption: "Orphaned (no owner)",
      columns: [{ label: "workload" }, { label: "issuer" }, { label: "subject" }, { label: "disabled" }],
      rows: w.orphaned.map((o) => [o.name, o.issuer, o.subject, o.disabled ? "yes" : "no"]),
      empty: "No orphaned workloads.",
    })}
${dataTable({
  caption: "Disabled but still configured",
  columns: [{ label: "workload" }, { label: "owner" }, { label: "subject" }],
  rows: w.disabled.map((o) => [o.name, o.owner ?? "(none)", o.subject]),
  empty: "No disabled workloads are configured.",
})}
${dataTable({
  caption: `No grant in ${w.idleDays} days (candidates for removal)`,
  columns: [{ label: "workload" }, { label: "owner" }, { label: "last grant" }],
  rows: w.idle.map((o) => [o.name, o.owner ?? "(none)", o.lastGrantAt ?? "never"]),
  empty: "No idle workloads.",
})}`,
  );
}

function broadTasks(r: ReportViewInput): Html {
  return section(
    "broad-tasks",
    `Broad tasks (${r.broadTasks.length})`,
    dataTable({
      caption: "Tasks broader than they need be",
      columns: [{ label: "task" }, { label: "sensitivity" }, { label: "where" }, { label: "why" }],
      rows: r.broadTasks.flatMap((t) => t.findings.map((f) => [t.task, t.sensitivity, f.where, f.reason])),
      empty: "No broad tasks.",
    }),
  );
}

export const REPORT_SECTIONS = [
  ["verdicts", "Verdicts"],
  ["debt", "IAM debt"],
  ["activity", "Grants over time"],
  ["denials", "Denials"],
  ["exceptions", "Exceptions"],
  ["approvals", "Approvals"],
  ["task-end", "Task end"],
  ["workloads", "Workloads"],
  ["broad-tasks", "Broad tasks"],
] as const;

/** Every section of the report, in reading order, plus the JSON the charts are drawn from. */
export function reportSections(r: ReportViewInput): Html {
  const nowMs = Date.parse(r.generatedAt);
  return html`${verdicts(r)}
${debt(r.debt)}
${grantsOverTime(r)}
${denials(r)}
${exceptions(r, nowMs)}
${approvals(r)}
${taskEnd(r)}
${workloads(r)}
${broadTasks(r)}`;
}

/** What the charts need, nothing else: the page's script reads it from an inert JSON block. */
export function chartData(r: ReportViewInput): unknown {
  return { grantsByDay: r.activity.byDay, debtTrend: r.debt?.trend ?? [] };
}
