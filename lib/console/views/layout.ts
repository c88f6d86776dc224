// The console's page frame: navigation, the served stylesheet and script (the console's CSP allows only
// its own origin), and a main landmark for each view.
import { type Html, type HtmlValue, html } from "./html.ts";

export type ConsoleView = "overview" | "grants" | "audit" | "approvals";

const NAV: [ConsoleView, string, string][] = [
  ["overview", "Overview", ""],
  ["grants", "Grants", "grants"],
  ["audit", "Audit", "audit"],
  ["approvals", "Approvals", "approvals"],
];

export function consolePage(options: {
  base: string;
  title: string;
  view: ConsoleView;
  body: HtmlValue;
  table: string;
  /** Seconds between live refreshes of the page's main content (the overview). */
  refreshSeconds?: number;
}): Html {
  const { base } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${options.title} · credbroker console</title>
<link rel="stylesheet" href="${base}assets/console.css">
<script src="${base}assets/console.js" defer></script>
</head>
<body class="console">
<a class="skip" href="#main">Skip to content</a>
<div class="console-bar"><nav class="console-nav" aria-label="Console"><ul class="navlist">
<li class="brand">credbroker console <span class="table-name">· table ${options.table}</span></li>
${NAV.map(
  ([view, label, path]) =>
    html`<li><a href="${base}${path}"${view === options.view ? html` aria-current="page"` : ""}>${label}</a></li>`,
)}
</ul></nav></div>
<main id="main"${options.refreshSeconds ? html` data-refresh="${options.refreshSeconds}"` : ""}>
<h1>${options.title}</h1>
${options.body}
</main>
</body>
</html>
`;
}
