// `policy impact` for people: a text table (the default) and Markdown to paste into a pull request.
import type { PolicyImpact } from "../core/impact/policy-impact.ts";
import { table } from "./io.ts";

const list = (ids: string[]) => (ids.length > 0 ? ids.join(", ") : "none");

function summaryLine(i: PolicyImpact): string {
  return (
    `${i.decisions} decisions from ${i.periodSince} to ${i.periodUntil}: ${i.unchanged} unchanged, ` +
    `${i.allowToDeny} allow→deny, ${i.denyToAllow} deny→allow, ${i.notReproducible.count} not reproducible`
  );
}

export function renderImpactText(i: PolicyImpact): string {
  let out = `policy impact: ${i.deployedVersion} → ${i.proposedVersion}\n${summaryLine(i)}\n\n`;
  out += "CHANGES\n";
  out += table(
    i.changes.map((c) => ({
      workload: c.workload,
      task: c.task,
      change: `${c.from}→${c.to}`,
      count: String(c.count),
      policies: c.policiesNow.join(",") || "-",
      why: c.why.join("; "),
      samples: c.samples.join(","),
    })),
    ["workload", "task", "change", "count", "policies", "why", "samples"],
  );
  out += "\nNOT REPRODUCIBLE\n";
  out += table(
    i.notReproducible.byReason.map((r) => ({ reason: r.reason, count: String(r.count) })),
    ["reason", "count"],
  );
  out += "\nACTIVE GRANTS REVOKED ON DEPLOY\n";
  out += table(
    i.activeGrants.revokedOnDeploy.map((g) => ({ ...g })),
    ["grantId", "workload", "task", "why"],
  );
  out +=
    `\nEXCEPTIONS\nadded: ${list(i.exceptions.added)}\nremoved: ${list(i.exceptions.removed)}\n` +
    `expiring within 14 days: ${list(i.exceptions.expiringWithin14Days)}\n`;
  return out;
}

/** Markdown cells: a pipe or a line break in a value must not break the table. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
const code = (s: string) => (s ? `\`${cell(s)}\`` : "");

export function renderImpactMarkdown(i: PolicyImpact): string {
  const moved = i.allowToDeny + i.denyToAllow + i.activeGrants.revokedOnDeploy.length;
  let out = `## Policy impact\n\n`;
  out +=
    moved > 0 ? "**This change would alter access.**\n\n" : "No decision or live grant would change.\n\n";
  out += `Config \`${i.deployedVersion}\` → \`${i.proposedVersion}\`, decisions from ${i.periodSince} to ${i.periodUntil}.\n\n`;
  out +=
    "| decisions | unchanged | allow → deny | deny → allow | not reproducible | grants revoked on deploy |\n";
  out += "|---:|---:|---:|---:|---:|---:|\n";
  out += `| ${i.decisions} | ${i.unchanged} | ${i.allowToDeny} | ${i.denyToAllow} | ${i.notReproducible.count} | ${i.activeGrants.revokedOnDeploy.length} |\n\n`;
  if (i.changes.length > 0) {
    out += "### Changes\n\n| workload | task | change | count | policies now | why | sample decisions |\n";
    out += "|---|---|---|---:|---|---|---|\n";
    for (const c of i.changes)
      out += `| ${cell(c.workload)} | ${cell(c.task)} | ${c.from} → ${c.to} | ${c.count} | ${c.policiesNow.map(code).join(", ")} | ${cell(c.why.join("; "))} | ${c.samples.map(code).join(" ")} |\n`;
    out += "\n";
  }
  if (i.activeGrants.revokedOnDeploy.length > 0) {
    out +=
      "### Active grants the sweep would revoke on deploy\n\n| grant | workload | task | why |\n|---|---|---|---|\n";
    for (const g of i.activeGrants.revokedOnDeploy)
      out += `| ${code(g.grantId)} | ${cell(g.workload)} | ${cell(g.task)} | ${cell(g.why)} |\n`;
    out += "\n";
  }
  if (i.notReproducible.count > 0) {
    out +=
      "### Not reproducible\n\nLeft out of the comparison (docs/policy-impact.md says why).\n\n| reason | count |\n|---|---:|\n";
    for (const r of i.notReproducible.byReason) out += `| ${cell(r.reason)} | ${r.count} |\n`;
    out += "\n";
  }
  const { added, removed, expiringWithin14Days } = i.exceptions;
  if (added.length + removed.length + expiringWithin14Days.length > 0) {
    out += "### Exceptions\n\n";
    if (added.length > 0) out += `- added: ${added.map(code).join(", ")}\n`;
    if (removed.length > 0) out += `- removed: ${removed.map(code).join(", ")}\n`;
    if (expiringWithin14Days.length > 0)
      out += `- expiring within 14 days: ${expiringWithin14Days.map(code).join(", ")}\n`;
    out += "\n";
  }
  return out;
}
