// `credbroker report --format html`: the report as one self-contained page. The stylesheet and the script
// are inline, allowed by their SHA-256 in a Content-Security-Policy that allows nothing else: no request
// can leave the page (default-src 'none'; not even a favicon, which an empty data: icon replaces).
import { createHash } from "node:crypto";
import type { BrowserAssets } from "../assets.ts";
import { html, jsonBlock, trusted } from "./html.ts";
import type { ReportViewInput } from "./report-input.ts";
import { chartData, REPORT_SECTIONS, reportSections } from "./report-sections.ts";

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/** The page's CSP: only the inline script and style with these exact hashes; data: images (the icon). */
export function reportCsp(assets: BrowserAssets): string {
  return [
    "default-src 'none'",
    `script-src ${sha256(assets.js)}`,
    `style-src ${sha256(assets.css)}`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

export function renderReportDocument(report: ReportViewInput, assets: BrowserAssets): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${reportCsp(assets)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>credbroker report ${report.period.since.slice(0, 10)} to ${report.period.until.slice(0, 10)}</title>
<style>${trusted(assets.css)}</style>
</head>
<body class="report">
<a class="skip" href="#main">Skip to the report</a>
<header class="page-header">
<h1>credbroker report</h1>
<p>Period <time datetime="${report.period.since}">${report.period.since}</time> to <time datetime="${report.period.until}">${report.period.until}</time> (${report.period.days} days), config <code>${report.configVersion}</code>, generated <time datetime="${report.generatedAt}">${report.generatedAt}</time>.</p>
<nav aria-label="Sections"><ul class="navlist">${REPORT_SECTIONS.map(([id, label]) => html`<li><a href="#${id}">${label}</a></li>`)}</ul></nav>
</header>
<main id="main">
${reportSections(report)}
</main>
${jsonBlock("chart-data", chartData(report))}
<script>${trusted(assets.js)}</script>
</body>
</html>
`;
  return page.text;
}
