// The console's views (CONTRACT §11): overview (the live report), grants with filters and paging, a grant
// with its audit trail and the revoke form, the audit (live), and approvals (pending).
import type { ApprovalRequest } from "../../core/approvals/request.ts";
import type { AuditEvent } from "../../core/audit.ts";
import { type Grant, grantView, TRANSITIONS } from "../../core/grant.ts";
import type { LiveState } from "../../core/report/live-state.ts";
import type { GrantFilter } from "../server/grant-listing.ts";
import { auditRow } from "./audit-row.ts";
import { type Html, type HtmlValue, html, jsonBlock, query } from "./html.ts";
import { liveSection } from "./live-state.ts";
import type { PendingApproval, ReportViewInput } from "./report-input.ts";
import { chartData, pendingApprovalsTable, reportSections } from "./report-sections.ts";
import { dataTable } from "./table.ts";

export const OVERVIEW_REFRESH_SECONDS = 15;

export const grantHref = (base: string, id: string) => `${base}grants/${encodeURIComponent(id)}`;

export function overviewBody(report: ReportViewInput, days: number, live?: LiveState): Html {
  return html`<p>Live from the table: the last ${days} days to <time datetime="${report.generatedAt}">${report.generatedAt}</time>, config <code>${report.configVersion}</code>; it refreshes itself every ${OVERVIEW_REFRESH_SECONDS} seconds.</p>
<form class="filters" method="get" aria-label="Report period"><label>Days<select name="days">${[
    7, 30, 90,
  ].map(
    (d) => html`<option value="${d}"${d === days ? html` selected` : ""}>${d}</option>`,
  )}</select></label><button class="primary" type="submit">Show</button></form>
${live ? liveSection(live) : ""}
${reportSections(report)}
${jsonBlock("chart-data", chartData(report))}`;
}

function statusCell(status: string): Html {
  return html`<span class="status-${status}">${status}</span>`;
}

export function grantsBody(o: {
  base: string;
  grants: Grant[];
  filter: GrantFilter;
  cursor?: string | undefined;
  next?: string | undefined;
}): Html {
  const { base, filter } = o;
  const statuses = Object.keys(TRANSITIONS);
  const here = { status: filter.status, workload: filter.workload, task: filter.task };
  return html`<form class="filters" method="get" action="${base}grants" aria-label="Filter grants">
<label for="f-status">Status<select id="f-status" name="status"><option value="">any</option>${statuses.map(
    (s) => html`<option value="${s}"${s === filter.status ? html` selected` : ""}>${s}</option>`,
  )}</select></label>
<label for="f-workload">Workload<input id="f-workload" name="workload" value="${filter.workload ?? ""}" autocomplete="off"></label>
<label for="f-task">Task<input id="f-task" name="task" value="${filter.task ?? ""}" autocomplete="off"></label>
<button class="primary" type="submit">Filter</button>
<a href="${base}grants">Clear</a>
</form>
${dataTable({
  caption: o.cursor ? "Grants (a further page)" : "Grants",
  id: "grants-table",
  columns: [
    { label: "grant" },
    { label: "workload" },
    { label: "task" },
    { label: "status" },
    { label: "issued" },
    { label: "expires" },
    { label: "reason" },
  ],
  rows: o.grants.map((g) => [
    html`<a href="${grantHref(base, g.grantId)}">${g.grantId}</a>`,
    g.workload,
    g.task,
    { value: statusCell(g.status), sort: g.status },
    g.issuedAt,
    g.expiresAt,
    g.reason ?? "",
  ]),
  empty: "No grants match.",
})}
<nav class="pager" aria-label="Pages">${o.cursor ? html`<a href="${base}grants${query(here)}">First page</a>` : ""}${
    o.next
      ? html`<a id="next-page" href="${base}grants${query({ ...here, cursor: o.next })}">Next page</a>`
      : ""
  }</nav>`;
}

function auditTable(base: string, events: AuditEvent[], live?: string): Html {
  const rows = events.map(auditRow);
  return html`<div class="table-wrap"><table class="sortable" id="audit-table"${live ? html` data-live-audit="${live}"` : ""}>
<caption>Audit events, newest first</caption>
<thead><tr>${["time", "outcome", "workload", "task", "grant", "actor", "why"].map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr data-event-id="${r.eventId}" data-time="${r.time}"><td>${r.time}</td><td>${r.outcome}</td><td>${r.workload}</td><td>${r.task}</td><td>${r.grantId ? html`<a href="${grantHref(base, r.grantId)}">${r.grantId}</a>` : ""}</td><td>${r.actor}</td><td>${r.why}</td></tr>`,
  )}</tbody></table></div>
${rows.length === 0 ? html`<p class="empty" id="audit-empty">No audit events in this window.</p>` : ""}`;
}

export function grantBody(o: {
  base: string;
  grant: Grant;
  trail: AuditEvent[];
  /** The approval the grant was issued under: who approved it. */
  approval?: ApprovalRequest | undefined;
  csrf: string;
  notice?: { text: string; error?: boolean } | undefined;
}): Html {
  const { base, grant } = o;
  const approvers = (o.approval?.votes ?? []).filter((v) => v.decision === "approve");
  const approved = o.approval
    ? html`<p id="grant-approval">Issued after approval <code>${o.approval.approvalId}</code> (purpose: ${o.approval.purpose || "none given"}), approved by ${approvers.map(
        (v, i) =>
          html`${i > 0 ? ", " : ""}<strong>${v.subject}</strong> (${v.issuer}, ${new Date(v.atMs).toISOString()}${v.reason ? `: ${v.reason}` : ""})`,
      )}.</p>`
    : "";
  const facts = Object.entries(grantView(grant)).map(
    ([k, v]) =>
      html`<dt>${k}</dt><dd${k === "status" ? html` id="grant-status"` : ""}>${Array.isArray(v) ? v.join(", ") : String(v)}</dd>`,
  );
  const revoke: HtmlValue =
    grant.status === "active"
      ? html`<h2 id="revoke-h">Revoke this grant</h2>
<form class="revoke" method="post" action="${grantHref(base, grant.grantId)}/revoke" aria-labelledby="revoke-h">
<input type="hidden" name="csrf" value="${o.csrf}">
<label for="reason">Reason (recorded in the audit, with actor console)<textarea id="reason" name="reason" required maxlength="256" rows="2"></textarea></label>
<button class="danger" type="submit">Revoke</button>
</form>`
      : html`<p>This grant is ${grant.status}; nothing to revoke.</p>`;
  return html`${o.notice ? html`<p class="notice${o.notice.error ? " error" : ""}" role="status">${o.notice.text}</p>` : ""}
${approved}
<dl class="facts">${facts}</dl>
${revoke}
<h2>Audit trail</h2>
${auditTable(base, o.trail)}`;
}

export function auditBody(o: { base: string; events: AuditEvent[]; hours: number; total: number }): Html {
  return html`<form class="filters" method="get" aria-label="Audit window"><label for="f-hours">Window<select id="f-hours" name="hours">${[
    1, 24, 168, 720,
  ].map(
    (h) =>
      html`<option value="${h}"${h === o.hours ? html` selected` : ""}>${h < 24 ? `${h} hour` : h === 24 ? "1 day" : `${h / 24} days`}</option>`,
  )}</select></label><button class="primary" type="submit">Show</button></form>
<p>${o.total > o.events.length ? `The newest ${o.events.length} of ${o.total} events` : `${o.events.length} event${o.events.length === 1 ? "" : "s"}`}; new events appear at the top as they happen. <span id="live-status" role="status" aria-live="polite"></span></p>
${auditTable(o.base, o.events, `${o.base}api/audit`)}`;
}

export function approvalsBody(pending: PendingApproval[] | undefined): Html {
  if (pending === undefined)
    return html`<p class="empty" id="approvals-empty">No approvals configured: no task requires human approval, so nothing is pending.</p>`;
  return pendingApprovalsTable(pending, "Nothing is waiting for approval.");
}

export function messageBody(text: string): Html {
  return html`<p class="notice error" role="alert">${text}</p>`;
}
