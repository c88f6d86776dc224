// The console's template layer and report views without a browser: escaping by default, and the debt
// (CONTRACT §9) and approvals (§10) sections rendered from the contract's JSON shapes once present.
import { describe, expect, it } from "vitest";
import { html, jsonBlock, trusted } from "../../lib/console/views/html.ts";
import type { ReportViewInput } from "../../lib/console/views/report-input.ts";
import { reportSections } from "../../lib/console/views/report-sections.ts";
import { compilePolicies } from "../../lib/core/policy/policy-set.ts";
import { buildReport } from "../../lib/core/report/build-report.ts";
import { NOW } from "../support/broker.ts";

describe("the html template layer", () => {
  it("escapes every interpolated value unless it is markup made by the same layer", () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<td title="${name}">${name}</td>`.text).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>',
    );
    expect(html`<ul>${["<a>", html`<li>ok</li>`]}</ul>`.text).toBe("<ul>&lt;a&gt;<li>ok</li></ul>");
    expect(html`${null}${undefined}${false}${0}`.text).toBe("0");
    expect(html`${trusted("<b>own</b>")}`.text).toBe("<b>own</b>");
  });

  it("embeds data as JSON that no value can break out of", () => {
    const block = jsonBlock("d", { name: "</script><script>alert(1)</script>", sep: "\u2028" }).text;
    expect(block).not.toContain("</script><script>");
    expect(block.match(/<\/script>/g)).toHaveLength(1);
    const json = block.slice(block.indexOf(">") + 1, block.lastIndexOf("<"));
    expect(JSON.parse(json)).toEqual({ name: "</script><script>alert(1)</script>", sep: "\u2028" });
  });
});

const emptyReport = async (): Promise<ReportViewInput> =>
  buildReport({
    config: { workloads: [], tasks: [] } as never,
    policies: compilePolicies([]),
    configVersion: "v",
    events: [],
    lastGrantAt: new Map(),
    sinceMs: NOW - 86_400_000,
    untilMs: NOW,
    nowMs: NOW,
  });

describe("the report's debt and approvals sections", () => {
  it("say so when no inventory was synced and no approval is configured", async () => {
    const page = reportSections(await emptyReport()).text;
    expect(page).toContain("No inventory synced yet");
    expect(page).toContain("No approvals configured");
  });

  it("render the contract's debt and approvals JSON when the report carries them", async () => {
    const r: ReportViewInput = {
      ...(await emptyReport()),
      debt: {
        snapshotTime: "2026-11-30T09:00:00Z",
        accounts: [],
        verdicts: [
          {
            criterion: "broker-bypass",
            met: false,
            actual: 1,
            target: 0,
            items: [{ arn: "arn:aws:iam::1:role/<x>", why: "trusts *" }],
          },
          {
            criterion: "long-lived-keys",
            met: false,
            actual: 3,
            target: 0,
            items: [],
            replaced: 2,
            unreplaced: 1,
            stillUsedAfterReplacement: 1,
          },
        ],
        trend: [
          { snapshotTime: "2026-11-29T09:00:00Z", counts: { "broker-bypass": 2, "long-lived-keys": 4 } },
          { snapshotTime: "2026-11-30T09:00:00Z", counts: { "broker-bypass": 1, "long-lived-keys": 3 } },
        ],
      },
      approvals: {
        pending: 1,
        approved: 4,
        denied: 1,
        lapsed: 0,
        medianSecondsToDecision: 42,
        byTask: [{ task: "rotate-prod-db", approved: 4 }],
      },
      pendingApprovals: [
        {
          approvalId: "ap1",
          workload: "agent",
          task: "rotate-prod-db",
          purpose: "<b>rotate</b>",
          requestedAt: "t1",
          expiresAt: "t2",
          approvals: 1,
          needed: 2,
        },
      ],
    };
    const page = reportSections(r).text;
    expect(page).not.toContain("No inventory synced yet");
    expect(page).toContain("<code>broker-bypass</code>");
    expect(page).toContain("2 replaced, 1 unreplaced, 1 still used after replacement");
    expect(page).toContain("arn:aws:iam::1:role/&lt;x&gt;");
    expect(page).toContain('data-chart="debt-trend"');
    expect(page).toContain("1 pending, 4 approved, 1 denied, 0 lapsed; median time to a decision 42 s");
    expect(page).toContain("&lt;b&gt;rotate&lt;/b&gt;");
    expect(page).toContain("rotate-prod-db");
  });
});
