// The overview's "Now" section: what is true at this moment (active grants by provider and task, pending
// revocations and approvals, the last sweep), beside the report's period. Numbers are in the markup.
import type { LiveState } from "../../core/report/live-state.ts";
import { type Html, html } from "./html.ts";
import { dataTable } from "./table.ts";

function lastSweep(s: LiveState["lastSweep"]): Html {
  if (!s) return html`<p class="empty" id="last-sweep">No sweep run recorded yet.</p>`;
  return html`<p id="last-sweep">Last sweep: started <time datetime="${s.startedAt}">${s.startedAt}</time>, finished <time datetime="${s.finishedAt}">${s.finishedAt}</time>, ${s.complete ? "complete" : "incomplete"}; lag <span id="sweep-lag">${s.lagSeconds === null ? "unknown" : `${s.lagSeconds} s`}</span>; errors <span id="sweep-errors">${s.errors}</span>.</p>`;
}

export function liveSection(live: LiveState): Html {
  const a = live.activeGrants;
  return html`<section id="now" aria-labelledby="now-h"><h2 id="now-h">Now</h2>
<dl class="now-figures">
<div><dt>Active grants</dt><dd id="active-grants">${a.total}</dd></div>
<div><dt>Revocations pending</dt><dd id="revocations-pending">${live.revocationsPending}</dd></div>
<div><dt>Approvals pending</dt><dd id="approvals-pending">${live.approvalsPending === null ? "–" : live.approvalsPending}</dd></div>
</dl>
${lastSweep(live.lastSweep)}
${dataTable({
  caption: "Active grants by provider",
  id: "active-by-provider",
  columns: [{ label: "provider" }, { label: "active", numeric: true }],
  rows: a.byProvider.map((p) => [p.provider, { value: String(p.count), sort: p.count }]),
  empty: "No active grants.",
})}
${dataTable({
  caption: "Active grants by task",
  id: "active-by-task",
  columns: [{ label: "task" }, { label: "provider" }, { label: "active", numeric: true }],
  rows: a.byTask.map((t) => [t.task, t.provider, { value: String(t.count), sort: t.count }]),
  empty: "No active grants.",
})}
</section>`;
}
