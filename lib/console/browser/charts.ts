/// <reference lib="dom" />
// Draws the report's charts with uPlot from the page's inert JSON block (#chart-data). The numbers are in
// the page's tables as well; a chart is a picture of them, hidden from screen readers behind its label.
import uPlot from "uplot";

interface ChartData {
  grantsByDay: { day: string; [outcome: string]: number | string }[];
  debtTrend: { snapshotTime: string; counts: Record<string, number> }[];
}

// Distinct in hue and lightness, each at least 3:1 against white (WCAG non-text contrast).
const COLOURS = ["#1f5fa8", "#b35c00", "#a11b1b", "#2e7d32", "#6a3d9a", "#4d4d4d"];

function width(el: HTMLElement): number {
  return Math.max(320, Math.min(1100, el.clientWidth || 900));
}

function lineChart(el: HTMLElement, xs: number[], series: { label: string; values: number[] }[]): uPlot {
  const opts: uPlot.Options = {
    width: width(el),
    height: 260,
    series: [
      {},
      ...series.map((s, i) => ({
        label: s.label,
        stroke: COLOURS[i % COLOURS.length]!,
        width: 2,
        points: { show: true, size: 5 },
      })),
    ],
    axes: [{}, { label: "count" }],
    // A static legend: the page is also printed, where hover values would only show as dashes.
    legend: { live: false },
    scales: { x: { time: true } },
  };
  return new uPlot(opts, [xs, ...series.map((s) => s.values)], el);
}

// The plots on the page now: a live refresh of the overview replaces them, and one resize handler serves all.
let plots: [HTMLElement, uPlot][] = [];
let listening = false;

export function drawCharts(root: Document): void {
  for (const [, plot] of plots) plot.destroy();
  plots = [];
  const block = root.getElementById("chart-data");
  if (!block?.textContent) return;
  const data = JSON.parse(block.textContent) as ChartData;
  const grants = root.querySelector<HTMLElement>('[data-chart="grants-by-day"]');
  if (grants && data.grantsByDay.length > 0) {
    const xs = data.grantsByDay.map((d) => Date.parse(`${d.day}T00:00:00Z`) / 1000);
    const outcomes = ["issued", "expired", "revoked", "released", "failed", "denied"];
    const series = outcomes.map((o) => ({
      label: o,
      values: data.grantsByDay.map((d) => Number(d[o] ?? 0)),
    }));
    plots.push([grants, lineChart(grants, xs, series)]);
  }
  const debt = root.querySelector<HTMLElement>('[data-chart="debt-trend"]');
  if (debt && data.debtTrend.length > 0) {
    const xs = data.debtTrend.map((t) => Date.parse(t.snapshotTime) / 1000);
    const criteria = [...new Set(data.debtTrend.flatMap((t) => Object.keys(t.counts)))];
    const series = criteria.map((c) => ({ label: c, values: data.debtTrend.map((t) => t.counts[c] ?? 0) }));
    plots.push([debt, lineChart(debt, xs, series)]);
  }
  if (listening) return;
  listening = true;
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => {
      for (const [el, plot] of plots) plot.setSize({ width: width(el), height: 260 });
    });
  });
}
