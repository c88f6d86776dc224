// `credbroker report --format html` opened from a file in real headless Chromium: it makes no request,
// logs no error, shows the numbers `report --json` gives, sorts its tables, and renders hostile text as text.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import type { GovernanceReport } from "../../lib/core/report/report-types.ts";
import { capture } from "../governance/capture.ts";
import { event, seedStore, writeConfig } from "../governance/seed.ts";
import { closeSharedDynamo, NOW, newStore } from "../support/broker.ts";
import { launchBrowser, type TestBrowser } from "./browser.ts";

const HOSTILE = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`;

let store: DynamoGrantStore;
let configPath: string;
let report: GovernanceReport;
let htmlPath: string;
let browser: TestBrowser;

beforeAll(async () => {
  store = await newStore();
  await seedStore(store);
  // A denied request whose subject is attacker-chosen text: the report shows it as unregistered:<subject>.
  await store.putAudit(
    event(8 * 60, { outcome: "deny", subject: HOSTILE, task: "read-reports", reasons: [HOSTILE] }),
  );
  configPath = await writeConfig();
  const json = capture();
  await reportCommand(
    ["--config", configPath, "--json"],
    json,
    async () => store,
    () => NOW,
  );
  report = JSON.parse(json.stdout()) as GovernanceReport;
  htmlPath = join(await mkdtemp(join(tmpdir(), "credbroker-report-")), "report.html");
  const io = capture();
  await reportCommand(
    ["--config", configPath, "--format", "html", "--out", htmlPath],
    io,
    async () => store,
    () => NOW,
  );
  expect(io.stdout()).toBe("");
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await closeSharedDynamo();
});

async function open() {
  const p = await browser.page();
  await p.page.goto(pathToFileURL(htmlPath).href);
  await p.page.waitForSelector('[data-chart="grants-by-day"] canvas');
  return p;
}

describe("report --format html", () => {
  it("prints the page on stdout without --out", async () => {
    const io = capture();
    await reportCommand(
      ["--config", configPath, "--format", "html"],
      io,
      async () => store,
      () => NOW,
    );
    expect(io.stdout()).toMatch(/^<!doctype html>/);
    expect(io.stdout()).toContain("credbroker report");
  });

  it("loads nothing but itself and logs no error, under a CSP that allows nothing remote", async () => {
    const { page, requests, errors } = await open();
    expect(requests).toEqual([pathToFileURL(htmlPath).href]);
    expect(errors).toEqual([]);
    const csp = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', "content");
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[^']+'; style-src 'sha256-[^']+';/);
    expect(csp).not.toMatch(/https?:|unsafe-inline|unsafe-eval|\*/);
    await page.close();
  });

  it("shows each verdict as a card with its criterion, met or not, and the same numbers as --json", async () => {
    const { page } = await open();
    const cards = await page.$$eval("#verdicts .card", (els) =>
      els.map((el) => ({
        criterion: el.querySelector(".criterion code")?.textContent,
        status: el.querySelector(".badge")?.textContent,
        numbers: [...el.querySelectorAll("dd")].map((d) => d.textContent),
      })),
    );
    expect(cards).toEqual(
      report.verdicts.map((v) => {
        // A share is shown as one: "33%", not "33".
        const unit = v.criterion === "early-release" ? "%" : "";
        return {
          criterion: v.criterion,
          status: v.met ? "met" : "not met",
          numbers: [v.actual, v.target, v.gap].map((n) => `${n}${unit}`),
        };
      }),
    );
    await page.close();
  });

  it("draws grants over time and lists the days with the same counts as --json", async () => {
    const { page } = await open();
    expect(await page.locator('[data-chart="grants-by-day"] canvas').count()).toBe(1);
    const rows = await page.$$eval("#grants-by-day tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
    );
    const active = report.activity.byDay.filter(
      (d) => d.issued + d.expired + d.revoked + d.released + d.failed + d.denied > 0,
    );
    expect(rows).toEqual(
      active.map((d) => [
        d.day,
        ...[d.issued, d.expired, d.revoked, d.released, d.failed, d.denied].map(String),
      ]),
    );
    await page.close();
  });

  it("shows denials by reason, exceptions on an expiry timeline, and the empty debt and approvals", async () => {
    const { page } = await open();
    const denials = await page.$$eval("#denials-by-reason tbody tr", (trs) =>
      (trs as HTMLTableRowElement[]).map((tr) => [
        tr.cells[0]!.textContent,
        Number(tr.cells[1]!.textContent),
      ]),
    );
    expect(denials).toEqual(report.denials.byReason.map((d) => [d.reason, d.count]));
    const marks = await page.$$eval("svg.timeline g.exc", (gs) => gs.map((g) => g.getAttribute("class")));
    expect(marks.sort()).toEqual(report.exceptions.items.map((e) => `exc ${e.status}`).sort());
    expect(await page.textContent("#debt-empty")).toContain("No inventory synced yet");
    expect(await page.textContent("#approvals-empty")).toContain("No approvals configured");
    await page.close();
  });

  it("writes the exception timeline's labels apart from each other and inside the figure", async () => {
    const { page } = await open();
    const boxes = await page.$$eval("svg.timeline text", (texts) => {
      const r = (texts[0] as SVGTextElement).ownerSVGElement!.getBoundingClientRect();
      const svg = { left: r.left, right: r.right };
      return texts.map((t) => {
        const b = t.getBoundingClientRect();
        return { text: t.textContent, left: b.left, right: b.right, top: b.top, bottom: b.bottom, svg };
      });
    });
    expect(boxes.map((b) => b.text)).toContain("today");
    for (const b of boxes) {
      expect(b.left, `${b.text} starts inside the figure`).toBeGreaterThanOrEqual(b.svg.left);
      expect(b.right, `${b.text} ends inside the figure`).toBeLessThanOrEqual(b.svg.right);
    }
    for (const [i, a] of boxes.entries())
      for (const b of boxes.slice(i + 1)) {
        const apart = a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top;
        expect(apart, `"${a.text}" and "${b.text}" overlap`).toBe(true);
      }
    await page.close();
  });

  it("says counts in words with plurals, headers in words, shares with %, and both granted and lived durations", async () => {
    const { page } = await open();
    expect(await page.textContent("#exceptions p")).toMatch(/^3 exceptions: /);
    expect(await page.textContent("#denials p")).toMatch(/^\d+ denied requests? in the period\.$/);
    const headers = await page.$$eval("#activity table th", (ths) => ths.map((th) => th.textContent?.trim()));
    expect(headers).toEqual(
      expect.arrayContaining([
        "median granted (s)",
        "longest granted (s)",
        "median lived (s)",
        "released early",
      ]),
    );
    expect(headers.some((h) => h === "median s")).toBe(false);
    const readReports = await page.$$eval("#activity table tr", (trs) =>
      (trs as HTMLTableRowElement[])
        .filter((tr) => tr.cells[0]?.textContent === "read-reports")
        .map((tr) => [...tr.cells].map((td) => td.textContent)),
    );
    expect(readReports[0]).toEqual(["read-reports", "5", "1", "3", "2", "0", "300", "300", "210", "40%"]);
    await page.close();
  });

  it("sorts a table from the keyboard by its column header", async () => {
    const { page } = await open();
    const header = page.locator("#exceptions-table thead th", { hasText: "days left" }).locator("button");
    await header.focus();
    await page.keyboard.press("Enter");
    const days = () =>
      page.$$eval("#exceptions-table tbody tr", (trs) =>
        (trs as HTMLTableRowElement[]).map((tr) => Number(tr.cells[4]!.textContent)),
      );
    const ascending = await days();
    expect(ascending).toEqual([...ascending].sort((a, b) => a - b));
    await page.keyboard.press("Enter");
    expect(await days()).toEqual([...ascending].reverse());
    expect(await page.getAttribute("#exceptions-table thead th:nth-child(5)", "aria-sort")).toBe(
      "descending",
    );
    await page.close();
  });

  it("renders an attacker's subject and reason as text, never as markup", async () => {
    const { page, errors } = await open();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.textContent("#denials")).toContain(`unregistered:${HOSTILE}`);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("keeps every number readable without JavaScript", async () => {
    const { page } = await browser.page({ javaScriptEnabled: false });
    await page.goto(pathToFileURL(htmlPath).href);
    expect(await page.locator("canvas").count()).toBe(0);
    const criteria = await page.$$eval("#verdicts .criterion code", (els) => els.map((e) => e.textContent));
    expect(criteria).toEqual(report.verdicts.map((v) => v.criterion));
    const main = (await page.textContent("main")) ?? "";
    expect(main).toContain(`${report.denials.total} denied requests in the period`);
    expect(main).toContain(`Issued ${report.activity.issued}, expired ${report.activity.expired}`);
    await page.close();
  });

  it("has a print stylesheet that hides the navigation", async () => {
    const text = await readFile(htmlPath, "utf8");
    expect(text).toContain("@media print");
    const { page } = await open();
    await page.emulateMedia({ media: "print" });
    expect(await page.locator(".page-header nav").isVisible()).toBe(false);
    expect(await page.locator("#verdicts .card").first().isVisible()).toBe(true);
    await page.close();
  });
});
