// `credbroker report`: the exit criteria of the access clean-up over a period (default the last 30 days),
// as a table for people, JSON for machines (`--json`), Markdown for a ticket (`--format markdown`) or one
// self-contained HTML page (`--format html`, lib/console/views), on stdout or into `--out FILE`.
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.ts";
import type { InventoryStore } from "../core/inventory/store.ts";
import { startOfUtcDay } from "../core/report/day-summary.ts";
import { reportFromStore } from "../core/report/gather.ts";
import type { GovernanceReport } from "../core/report/report-types.ts";
import type { GrantStore } from "../core/store.ts";
import { configPathFrom } from "./env.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import { renderMarkdown, renderText } from "./report-render.ts";

const DAY_MS = 86_400_000;
const FORMATS = ["table", "json", "markdown", "html"] as const;

export const REPORT_USAGE =
  "usage: credbroker report [--config FILE] [--since ISO | --days N] [--json | --format table|json|markdown|html] [--out FILE]";

export async function reportCommand(
  args: string[],
  io: CliIo,
  store: (table?: string) => Promise<GrantStore>,
  now: () => number = Date.now,
  inventory?: (table?: string) => Promise<InventoryStore>,
): Promise<GovernanceReport> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      table: { type: "string" },
      since: { type: "string" },
      days: { type: "string" },
      json: { type: "boolean", default: false },
      format: { type: "string" },
      out: { type: "string" },
    },
  });
  const format = values.json ? "json" : (values.format ?? "table");
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`--format must be one of ${FORMATS.join(", ")}\n${REPORT_USAGE}`, 2);
  if (values.json && values.format && values.format !== "json")
    throw new CliError("give --json or --format, not both", 2);
  if (values.since && values.days) throw new CliError("give --since or --days, not both", 2);

  const nowMs = now();
  // From the start of the UTC day `days` ago: whole days are read from their summaries (docs/governance.md).
  let sinceMs = startOfUtcDay(nowMs - 30 * DAY_MS);
  if (values.days !== undefined) {
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new CliError("--days must be a whole number of days, 1 to 3650", 2);
    sinceMs = startOfUtcDay(nowMs - days * DAY_MS);
  }
  if (values.since !== undefined) {
    sinceMs = Date.parse(values.since);
    if (Number.isNaN(sinceMs) || sinceMs > nowMs)
      throw new CliError("--since takes a past ISO 8601 time, e.g. 2026-11-01T00:00:00Z", 2);
  }

  const resolved = await loadConfigFile(configPathFrom(values.config, io.env));
  const s = await store(values.table);
  const report = await reportFromStore(
    s,
    { config: resolved.config, policies: resolved.policies, configVersion: resolved.version },
    { sinceMs, nowMs },
    inventory ? await inventory(values.table) : undefined,
  );
  const text =
    format === "json"
      ? `${JSON.stringify(report, null, 2)}\n`
      : format === "markdown"
        ? renderMarkdown(report)
        : format === "html"
          ? await renderHtml(report)
          : renderText(report);
  if (values.out) {
    await writeFile(values.out, text);
    io.err(`credbroker report: wrote ${values.out}\n`);
  } else io.out(text);
  return report;
}

/** Loaded only for --format html: the page's views and its bundled browser code. */
async function renderHtml(report: GovernanceReport): Promise<string> {
  const { browserAssets } = await import("../console/assets.ts");
  const { renderReportDocument } = await import("../console/views/report-document.ts");
  return renderReportDocument(report, await browserAssets());
}
