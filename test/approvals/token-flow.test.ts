// CONTRACT §10 end to end through the handlers: request, poll, approve, deny, lapse, and the rules that keep
// one approval to one grant.
import { afterAll, describe, expect, it } from "vitest";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { createApprovalBroker, NOW } from "./support.ts";

afterAll(closeSharedDynamo);

async function pendingRequest(options: Parameters<typeof createApprovalBroker>[0] = {}) {
  const b = await createApprovalBroker(options);
  const first = await b.request(await b.workloadToken());
  expect(first.status).toBe(400);
  return { b, id: first.body["approval_id"] as string, first };
}

describe("a token request for a task that needs approval", () => {
  it("records a pending request and answers authorization_pending with its id, interval, expiry and decision", async () => {
    const { b, first } = await pendingRequest();
    expect(first.body).toMatchObject({
      error: "authorization_pending",
      interval: 5,
      expires_in: 900,
      approval_id: expect.stringMatching(/^[0-9a-z]{26}$/),
      decision_id: expect.any(String),
    });
    const stored = await b.store.approvals.get(first.body["approval_id"] as string);
    expect(stored).toMatchObject({ status: "pending", workload: "web-ci", task: "rotate-db", needed: 2 });
    const events = (await b.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 1000 })).items;
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: "approval",
        outcome: "pending",
        approvalId: first.body["approval_id"],
        workload: "web-ci",
        task: "rotate-db",
      }),
    );
  });

  it("answers a repeated request of the same workload, task and purpose with the same pending request", async () => {
    const { b, id } = await pendingRequest();
    b.clock.advance(1000);
    const again = await b.request(await b.workloadToken());
    expect(again.body).toMatchObject({ error: "authorization_pending", approval_id: id });
    const other = await b.request(await b.workloadToken(), { purpose: "another reason" });
    expect(other.body["approval_id"]).not.toBe(id);
  });

  it("refuses a request whose issue is denied before any approval is asked for", async () => {
    const b = await createApprovalBroker();
    const res = await b.request(await b.workloadToken({ repository: "evil/repo" }));
    expect(res.status).toBe(403);
    expect(res.body["error"]).toBe("access_denied");
    expect(await b.store.approvals.listPending()).toEqual([]);
  });
});

describe("polling with approval_id", () => {
  it("answers authorization_pending at the interval and slow_down when polled faster, growing the interval by 5 s", async () => {
    const { b, id } = await pendingRequest();
    b.clock.advance(2000);
    const fast = await b.request(await b.workloadToken(), { approval_id: id });
    expect(fast.status).toBe(400);
    expect(fast.body).toMatchObject({ error: "slow_down", interval: 10, approval_id: id });
    expect((await b.store.approvals.get(id))?.intervalSeconds).toBe(10);
    b.clock.advance(5000);
    expect((await b.request(await b.workloadToken(), { approval_id: id })).body).toMatchObject({
      error: "slow_down",
      interval: 15,
    });
    b.clock.advance(15_000);
    expect((await b.request(await b.workloadToken(), { approval_id: id })).body).toMatchObject({
      error: "authorization_pending",
      interval: 15,
      expires_in: 900 - 22,
    });
  });

  it("issues one grant once the quorum of distinct approvers approved, with its duration starting at that poll", async () => {
    const { b, id } = await pendingRequest();
    const alice = await b.approve(id, await b.approverToken("alice"));
    expect(alice).toMatchObject({
      status: 200,
      body: { approvalId: id, status: "pending", approvals: 1, needed: 2 },
    });
    b.clock.advance(60_000);
    const bob = await b.approve(id, await b.approverToken("bob"));
    expect(bob.body).toMatchObject({ status: "approved", approvals: 2, needed: 2 });
    b.clock.advance(60_000);
    const pollAt = b.clock.now();
    const ok = await b.request(await b.workloadToken(), { approval_id: id });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ scope: "rotate-db", expires_in: 600 });
    const grant = await b.store.getGrant(ok.body["grant_id"] as string);
    expect(grant).toMatchObject({
      status: "active",
      workload: "web-ci",
      issuedAt: new Date(pollAt).toISOString().replace(".000Z", "Z"),
    });
    expect(Date.parse(grant!.expiresAt)).toBe(pollAt + 600_000);
    expect((await b.store.approvals.get(id))?.grantId).toBe(ok.body["grant_id"]);
  });

  it("counts the same approver once", async () => {
    const { b, id } = await pendingRequest();
    await b.approve(id, await b.approverToken("alice"));
    const again = await b.approve(id, await b.approverToken("alice"));
    expect(again.body).toMatchObject({ status: "pending", approvals: 1, needed: 2 });
    expect((await b.request(await b.workloadToken(), { approval_id: id })).body["error"]).toBe("slow_down");
  });

  it("answers invalid_grant to a second poll after the approval was used", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    await b.approve(id, await b.approverToken("alice"));
    b.clock.advance(5000);
    expect((await b.request(await b.workloadToken(), { approval_id: id })).status).toBe(200);
    b.clock.advance(5000);
    const second = await b.request(await b.workloadToken(), { approval_id: id });
    expect(second).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("answers invalid_grant to another workload polling with this workload's approval id", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    await b.approve(id, await b.approverToken("alice"));
    b.clock.advance(5000);
    const other = await b.request(await b.workloadToken({ sub: "repo:acme/other:ref:refs/heads/main" }), {
      approval_id: id,
    });
    expect(other).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    // The owner can still collect it.
    expect((await b.request(await b.workloadToken(), { approval_id: id })).status).toBe(200);
  });

  it("answers invalid_grant to an approval id nobody issued and to a poll that changes the request", async () => {
    const { b, id } = await pendingRequest();
    b.clock.advance(5000);
    expect(
      (await b.request(await b.workloadToken(), { approval_id: "0000000000aaaaaaaaaaaaaaaa" })).body["error"],
    ).toBe("invalid_grant");
    expect(
      (await b.request(await b.workloadToken(), { approval_id: id, purpose: "something else" })).body[
        "error"
      ],
    ).toBe("invalid_grant");
    expect((await b.request(await b.workloadToken(), { approval_id: "not an id" })).body["error"]).toBe(
      "invalid_request",
    );
  });

  it("yields one grant when two polls race at the moment of approval", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    await b.approve(id, await b.approverToken("alice"));
    b.clock.advance(5000);
    const token = await b.workloadToken();
    const answers = await Promise.all([1, 2, 3].map(() => b.request(token, { approval_id: id })));
    const ok = answers.filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200))
      expect(["authorization_pending", "invalid_grant"]).toContain(a.body["error"]);
    const grants = (await b.store.listGrantsByWorkload("web-ci")).items.filter((g) => g.task === "rotate-db");
    expect(grants.map((g) => g.grantId)).toEqual([ok[0]!.body["grant_id"]]);
  });

  it("answers access_denied when issue is denied between the request and the approval", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    await b.store.setSignals("web-ci", { quarantined: "true" }, b.clock.now());
    await b.approve(id, await b.approverToken("alice"));
    b.clock.advance(5000);
    const res = await b.request(await b.workloadToken(), { approval_id: id });
    expect(res).toMatchObject({
      status: 403,
      body: { error: "access_denied", decision_id: expect.any(String) },
    });
    expect((await b.store.listGrantsByWorkload("web-ci")).items).toEqual([]);
  });

  it("issues exactly once on the next poll after a crash between linking the grant and recording it", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    await b.approve(id, await b.approverToken("alice"));
    // What a poll that died right after its conditional write leaves behind: the request linked to a grant
    // id, and no grant.
    const approved = await b.store.approvals.get(id);
    await b.store.approvals.replace({
      ...approved!,
      grantId: "0000000000crashedgrant0000",
      claimedAtMs: b.clock.now(),
      version: approved!.version + 1,
    });
    b.clock.advance(1000);
    expect((await b.request(await b.workloadToken(), { approval_id: id })).body["error"]).toBe(
      "authorization_pending",
    );
    b.clock.advance(5000);
    const token = await b.workloadToken();
    const [one, two] = await Promise.all([
      b.request(token, { approval_id: id }),
      b.request(token, { approval_id: id }),
    ]);
    const ok = [one, two].filter((a) => a.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body["grant_id"]).toBe("0000000000crashedgrant0000");
    b.clock.advance(10_000);
    expect((await b.request(await b.workloadToken(), { approval_id: id })).body["error"]).toBe(
      "invalid_grant",
    );
    expect((await b.store.listGrantsByWorkload("web-ci")).items).toHaveLength(1);
  });

  it("answers access_denied after an approver denied, and the request ends at the first permitted deny", async () => {
    const { b, id } = await pendingRequest();
    await b.approve(id, await b.approverToken("alice"));
    const deny = await b.approve(id, await b.approverToken("bob"), "deny", "not during the freeze");
    expect(deny.body).toMatchObject({ status: "denied", approvals: 1, needed: 2 });
    b.clock.advance(5000);
    expect(await b.request(await b.workloadToken(), { approval_id: id })).toMatchObject({
      status: 403,
      body: { error: "access_denied" },
    });
    const late = await b.approve(id, await b.approverToken("carol"));
    expect(late).toMatchObject({ status: 409, body: { error: "conflict", status: "denied" } });
    const events = (await b.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 60_000 })).items;
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: "approval",
        outcome: "deny",
        approverIssuer: "corp",
        approverSubject: "bob",
        reasons: ["not during the freeze"],
        approvalId: id,
        workload: "web-ci",
        task: "rotate-db",
      }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ outcome: "approve", approverSubject: "alice", reasons: ["looks right"] }),
    );
  });

  it("lapses a request nobody decided: expired_token to the poll, expire in the audit trail after the sweep", async () => {
    const { b, id } = await pendingRequest({ expiresInSeconds: 60 });
    b.clock.advance(61_000);
    expect(await b.request(await b.workloadToken(), { approval_id: id })).toMatchObject({
      status: 400,
      body: { error: "expired_token" },
    });
    expect((await b.approve(id, await b.approverToken("alice"))).body).toMatchObject({
      error: "conflict",
      status: "expired",
    });
    const summary = await sweepDue(b.deps);
    expect(summary.approvalsLapsed).toBe(1);
    expect((await b.store.approvals.get(id))?.status).toBe("expired");
    expect((await sweepDue(b.deps)).approvalsLapsed).toBeUndefined();
    const events = (await b.store.listAudit({ sinceMs: NOW, untilMs: b.clock.now() + 1000 })).items;
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: "approval",
        outcome: "expire",
        approvalId: id,
        workload: "web-ci",
        task: "rotate-db",
      }),
    );
    // A new request after the lapse is a new request.
    const fresh = await b.request(await b.workloadToken());
    expect(fresh.body["approval_id"]).not.toBe(id);
  });
});
