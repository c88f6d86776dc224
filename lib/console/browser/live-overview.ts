/// <reference lib="dom" />
// The console's overview stays live: every `data-refresh` seconds it fetches itself again and swaps in the
// new report (the server's own escaped markup, parsed inert by DOMParser), then redraws the charts.
import { drawCharts } from "./charts.ts";
import { enhanceSortableTables } from "./sort.ts";

export function startLiveOverview(root: Document): void {
  const main = root.querySelector<HTMLElement>("main[data-refresh]");
  if (!main) return;
  const seconds = Number(main.dataset["refresh"]);
  if (!Number.isFinite(seconds) || seconds <= 0) return;
  setInterval(async () => {
    try {
      const res = await fetch(location.href, {
        credentials: "same-origin",
        headers: { accept: "text/html" },
      });
      if (!res.ok) return;
      const next = new DOMParser().parseFromString(await res.text(), "text/html").querySelector("main");
      if (!next) return;
      main.replaceChildren(...[...next.childNodes].map((n) => root.importNode(n, true)));
      enhanceSortableTables(root);
      drawCharts(root);
    } catch {
      // The next tick tries again; the page keeps what it shows.
    }
  }, seconds * 1000);
}
