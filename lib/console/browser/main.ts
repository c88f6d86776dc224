/// <reference lib="dom" />
// The one script of the report page and the console: sorting, charts, the live audit. Everything it
// touches is already in the page; it adds no content that the server did not escape.
import { drawCharts } from "./charts.ts";
import { startLiveAudit } from "./live-audit.ts";
import { startLiveOverview } from "./live-overview.ts";
import { enhanceSortableTables } from "./sort.ts";

function start(): void {
  enhanceSortableTables(document);
  drawCharts(document);
  startLiveAudit(document);
  startLiveOverview(document);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
