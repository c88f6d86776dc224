// The report's approvals section (CONTRACT §10), from the records a real flow leaves in the table.
import { afterAll, describe, expect, it } from "vitest";
import { renderMarkdown, renderText } from "../../lib/cli/report-render.ts";
import { buildReport } from "../../lib/core/report/build-report.ts";
import { approvalsBetween, auditEventsBetween } from "../../lib/core/report/gather.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { createApprovalBroker, NOW } from "./support.ts";

afterAll(closeSharedDynamo);

describe("report approvals", () => {
  it("counts the period's requests by outcome, the median time to decision, and what is pending now", async () => {
    const b = await createApprovalBroker({ approvals: 1, expiresInSeconds: 600 });
    const ask = async (purpose: string) =>
      (await b.request(await b.workloadToken(), { purpose })).body["approval_id"] as string;
    const approved = await ask("one");
    const denied = await ask("two");
    const lapsed = await ask("three");
    b.clock.advance(60_000);
    await b.approve(approved, await b.approverToken("alice"));
    const collected = await b.request(await b.workloadToken(), { purpose: "one", approval_id: approved });
    expect(collected.status).toBe(200);
    b.clock.advance(60_000);
    await b.approve(denied, await b.approverToken("alice"), "deny", "no");
    b.clock.advance(600_000);
    await sweepDue(b.deps);
    const pending = await ask("four");
    expect(pending).toBeTruthy();
    const nowMs = b.clock.now();
    const report = buildReport({
      config: b.resolved.config,
      policies: b.resolved.policies,
      configVersion: b.resolved.version,
      events: await auditEventsBetween(b.store, NOW - 86_400_000, nowMs),
      lastGrantAt: new Map(),
      sinceMs: NOW - 86_400_000,
      untilMs: nowMs,
      nowMs,
      approvals: await approvalsBetween(b.store, NOW - 86_400_000, nowMs),
    });
    expect(report.approvals).toEqual({
      pending: 1,
      approved: 1,
      denied: 1,
      lapsed: 1,
      medianSecondsToDecision: 90,
      byTask: [
        {
          task: "rotate-db",
          requested: 4,
          pending: 1,
          approved: 1,
          denied: 1,
          lapsed: 1,
          medianSecondsToDecision: 90,
        },
      ],
    });
    expect(lapsed).toBeTruthy();
    // A lapsed request is not a grant that expired (the one expiry is the collected grant's), and an
    // approver's denial is not a policy denial.
    expect(report.activity.expired).toBe(1);
    expect(report.denials.total).toBe(0);
    expect(renderText(report)).toContain("APPROVALS (1 pending now)");
    expect(renderMarkdown(report)).toContain("| rotate-db | 4 | 1 | 1 | 1 | 1 | 90 |");
  });
});
