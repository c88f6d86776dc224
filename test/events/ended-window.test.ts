// An ended task stays ended for its issuer's maxTokenAgeSeconds (+ clock tolerance) after the event, so a
// token of the job is useless once the job is over (CONTRACT §13); tokens of issuers no CI system speaks for
// are never looked up; a config without `events` issues as before.
import { afterAll, describe, expect, it } from "vitest";
import { baseConfig, closeSharedDynamo, createTestBroker } from "../support/broker.ts";
import { EVENTS_CONFIG, EXAMPLE_JOB_CLAIMS, githubDeliverer } from "./in-process.ts";
import { githubExample } from "./support.ts";

afterAll(() => closeSharedDynamo());

describe("an ended job stays ended", () => {
  it("refuses the job's tokens until maxTokenAgeSeconds after the event, then no longer", async () => {
    const broker = await createTestBroker({ config: (i) => baseConfig(i, { events: EVENTS_CONFIG }) });
    const mint = () => broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    expect((await broker.exchange(await mint())).status).toBe(200);
    const ended = await githubDeliverer(broker)("workflow_job", githubExample("workflow_job", "completed"));
    expect(ended.body["ended"]).toBe(1);
    const denied = await broker.exchange(await mint());
    expect(denied).toMatchObject({ status: 403, body: { error: "access_denied" } });
    expect(denied.body["decision_id"]).toBeDefined();
    // maxTokenAgeSeconds 900 and clockToleranceSeconds 30: a token minted then is still refused.
    broker.clock.advance(929_000);
    expect((await broker.exchange(await mint())).status).toBe(403);
    // Past that window no token of the job can still be accepted by age: the record no longer refuses.
    broker.clock.advance(2_000);
    expect((await broker.exchange(await mint())).status).toBe(200);
  });

  it("records no task key for a config without events", async () => {
    const broker = await createTestBroker();
    const token = await broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    const issued = await broker.exchange(token);
    expect(issued.status).toBe(200);
    expect(await broker.store.getGrant(issued.body["grant_id"] as string)).not.toHaveProperty("taskRun");
  });
});

describe("a grant still being issued when its job ends", () => {
  it("is failed, so its activation is refused and the credential withheld", async () => {
    const broker = await createTestBroker({ config: (i) => baseConfig(i, { events: EVENTS_CONFIG }) });
    const now = broker.clock.now();
    const grantId = "01m9a0000000000000000issue";
    // As the token path leaves it between recording the grant and activating it.
    await broker.store.createGrant(
      {
        grantId,
        workload: "web-ci",
        subject: "repo:acme/web:ref:refs/heads/main",
        issuer: "test",
        task: "read-reports",
        provider: "jwt",
        status: "issuing",
        issuedAt: new Date(now).toISOString().replace(/\.\d{3}Z$/, "Z"),
        expiresAt: new Date(now + 300_000).toISOString().replace(/\.\d{3}Z$/, "Z"),
        policyIds: ["ci-reads-reports"],
        sourceIp: "127.0.0.1",
        purpose: "",
        decisionId: "01m9a00000000000000decided",
        durationSeconds: 300,
        configVersion: broker.resolved.version,
        subjectTokenSha256: "0".repeat(64),
        taskRun: "gh/id:186853002/2202229078/1",
        taskJob: "1291536064",
      },
      now + 60_000,
    );
    const ended = await githubDeliverer(broker)("workflow_job", githubExample("workflow_job", "completed"));
    expect(ended.body).toEqual({ ended: 1, grants: [grantId] });
    expect(await broker.store.getGrant(grantId)).toMatchObject({ status: "failed", reason: "task-ended" });
    await expect(broker.store.transition(grantId, "issuing", "active")).rejects.toThrow(/no longer issuing/);
    const audit = await broker.store.listAudit({ sinceMs: now - 1000, untilMs: now + 1000 });
    expect(audit.items.filter((e) => e.grantId === grantId)).toEqual([
      expect.objectContaining({ kind: "event", outcome: "fail", reasons: ["task-ended"], actor: "github" }),
    ]);
  });
});
