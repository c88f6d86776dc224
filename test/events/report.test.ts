// The report's taskEnd (CONTRACT §13) in every format: the events acted on, the grants a task's end
// revoked, the requests refused after it, and the grants their workload released before it arrived.
import { afterAll, describe, expect, it } from "vitest";
import { renderMarkdown, renderText } from "../../lib/cli/report-render.ts";
import { browserAssets } from "../../lib/console/assets.ts";
import { renderReportDocument } from "../../lib/console/views/report-document.ts";
import { reportFromStore } from "../../lib/core/report/gather.ts";
import { baseConfig, closeSharedDynamo, createTestBroker } from "../support/broker.ts";
import { EVENTS_CONFIG, EXAMPLE_JOB_CLAIMS, githubDeliverer } from "./in-process.ts";
import { githubExample } from "./support.ts";

afterAll(() => closeSharedDynamo());

describe("report taskEnd", () => {
  it("counts events, ended grants, refusals after the end and releases before it, in every format", async () => {
    const broker = await createTestBroker({ config: (i) => baseConfig(i, { events: EVENTS_CONFIG }) });
    const deliver = githubDeliverer(broker);
    const token = await broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    const grants: string[] = [];
    for (let i = 0; i < 3; i++) grants.push((await broker.exchange(token)).body["grant_id"] as string);
    // The post step releases one grant itself; the job's end takes the other two.
    expect((await broker.call("revoke", { token: grants[0]!, subject_token: token })).status).toBe(200);
    broker.clock.advance(1000);
    const ended = await deliver("workflow_job", githubExample("workflow_job", "completed"));
    expect(ended.body["ended"]).toBe(2);
    broker.clock.advance(1000);
    expect((await broker.exchange(token)).status).toBe(403);
    await deliver("ping", githubExample("ping"));

    const report = await reportFromStore(
      broker.store,
      {
        config: broker.resolved.config,
        policies: broker.resolved.policies,
        configVersion: broker.resolved.version,
      },
      { sinceMs: broker.clock.now() - 3_600_000, nowMs: broker.clock.now() + 1000 },
    );
    expect(report.taskEnd).toEqual({ events: 1, grantsEnded: 2, deniedAfterEnd: 1, releasedBeforeEnd: 1 });
    expect(JSON.parse(JSON.stringify(report)).taskEnd).toEqual(report.taskEnd);
    expect(renderText(report)).toContain(
      "events acted on: 1; grants ended by a task's end: 2; token requests refused after their task ended: 1; released by the workload before the end: 1",
    );
    expect(renderMarkdown(report)).toContain("## Task end (2 grants ended with their CI task)");
    const html = renderReportDocument(report, await browserAssets());
    expect(html).toContain('<dd id="task-end-ended">2</dd>');
    expect(html).toContain('<dd id="task-end-denied">1</dd>');
    expect(html).toContain('<dd id="task-end-released">1</dd>');
  });
});
