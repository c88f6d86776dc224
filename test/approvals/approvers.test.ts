// The approver routes of CONTRACT §10: who may approve, how they prove it, and what each answer says.
import { afterAll, describe, expect, it } from "vitest";
import { closeSharedDynamo } from "../support/broker.ts";
import { createApprovalBroker, NOW } from "./support.ts";

afterAll(closeSharedDynamo);

async function pendingRequest(options: Parameters<typeof createApprovalBroker>[0] = {}) {
  const b = await createApprovalBroker(options);
  const first = await b.request(await b.workloadToken());
  return { b, id: first.body["approval_id"] as string };
}

describe("approver authentication", () => {
  it.each([
    ["no Authorization header", {}],
    ["a Basic header", { headers: { authorization: "Basic YWxpY2U6cHc=" } }],
    ["a malformed bearer token", { token: "not-a-jwt" }],
  ])("answers 401 invalid_token to %s", async (_, init) => {
    const { b } = await pendingRequest();
    const res = await b.approvalsCall("GET", "/approvals", init);
    expect(res.status).toBe(401);
    expect(res.body["error"]).toBe("invalid_token");
    expect(res.headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("never takes a workload token for an approver token (401), even from a workload that could approve by claims", async () => {
    const { b, id } = await pendingRequest();
    const workloadToken = await b.workloadToken({ groups: ["sre"] });
    const res = await b.approve(id, workloadToken);
    expect(res).toMatchObject({ status: 401, body: { error: "invalid_token" } });
    expect((await b.store.approvals.get(id))?.votes).toEqual([]);
  });

  it("answers 401 to an expired approver token", async () => {
    const { b, id } = await pendingRequest();
    const token = await b.approvers.mint(
      { sub: "alice", groups: ["sre"] },
      { nowMs: NOW - 3_600_000, lifetimeSeconds: 60 },
    );
    expect((await b.approve(id, token)).status).toBe(401);
  });
});

describe("deciding a request", () => {
  it("lists pending requests with the pinned fields", async () => {
    const { b, id } = await pendingRequest();
    const res = await b.approvalsCall("GET", "/approvals", { token: await b.approverToken("alice") });
    expect(res.status).toBe(200);
    expect(res.body["approvals"]).toEqual([
      expect.objectContaining({
        approvalId: id,
        workload: "web-ci",
        task: "rotate-db",
        purpose: "rotate after leak",
        requestedAt: new Date(NOW).toISOString(),
        expiresAt: new Date(NOW + 900_000).toISOString(),
        approvals: 0,
        needed: 2,
        mayApprove: true,
      }),
    ]);
    const one = await b.approvalsCall("GET", `/approvals/${id}`, { token: await b.approverToken("alice") });
    expect(one.body).toMatchObject({ approvalId: id, status: "pending", votes: [] });
  });

  it("refuses an approver no approve policy permits with 403, and does not count them", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    const res = await b.approve(id, await b.approverToken("mallory", { groups: ["dev"] }));
    expect(res).toMatchObject({ status: 403, body: { error: "access_denied" } });
    expect((await b.store.approvals.get(id))?.votes).toEqual([]);
    const deny = await b.approve(id, await b.approverToken("mallory", { groups: ["dev"] }), "deny");
    expect(deny.status).toBe(403);
    expect((await b.store.approvals.get(id))?.status).toBe("pending");
  });

  it("refuses an approver from the workload's own team (a forbid on context.owner)", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    const res = await b.approve(id, await b.approverToken("dana", { email: "team-web@acme.test" }));
    expect(res).toMatchObject({ status: 403, body: { error: "access_denied" } });
    const events = (await b.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 1000 })).items;
    expect(events).toContainEqual(
      expect.objectContaining({
        kind: "approval",
        outcome: "error",
        approverSubject: "dana",
        policyIds: ["no-approving-own-team"],
      }),
    );
  });

  it("denies by default when no approve policy exists at all", async () => {
    const { BASE_POLICIES } = await import("../support/broker.ts");
    const policies = `${BASE_POLICIES}
@id("agents-rotate-db") permit (principal, action == Action::"issue", resource == Task::"rotate-db");`;
    const { b, id } = await pendingRequest({ approvals: 1, policies });
    expect((await b.approve(id, await b.approverToken("alice"))).status).toBe(403);
  });

  it("answers 404 not_found to an unknown id and 400 to a decision that is neither approve nor deny", async () => {
    const { b, id } = await pendingRequest();
    const token = await b.approverToken("alice");
    expect((await b.approve("0000000000aaaaaaaaaaaaaaaa", token)).body["error"]).toBe("not_found");
    expect((await b.approve("..%2F..%2Ftoken", token)).status).toBe(404);
    const bad = await b.approvalsCall("POST", `/approvals/${id}`, { token, body: { decision: "maybe" } });
    expect(bad).toMatchObject({ status: 400, body: { error: "invalid_request" } });
  });

  it("accepts JSON as well as a form", async () => {
    const { b, id } = await pendingRequest({ approvals: 1 });
    const res = await b.approvalsCall("POST", `/approvals/${id}`, {
      token: await b.approverToken("alice"),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(400);
    const json = await (async () => {
      const { createHandlers } = await import("../../lib/http/handlers.ts");
      const r = await createHandlers(b.deps).approvals({
        rawPath: `/approvals/${id}`,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${await b.approverToken("alice")}`,
        },
        body: JSON.stringify({ decision: "approve", reason: "ok" }),
        isBase64Encoded: false,
        requestContext: { http: { method: "POST", path: `/approvals/${id}`, sourceIp: "127.0.0.1" } },
      });
      return { status: r.statusCode, body: JSON.parse(r.body) };
    })();
    expect(json).toEqual({
      status: 200,
      body: { approvalId: id, status: "approved", approvals: 1, needed: 1 },
    });
    const again = await b.approve(id, await b.approverToken("bob"));
    expect(again).toMatchObject({ status: 409, body: { error: "conflict", status: "approved" } });
  });

  it("answers 405 to other methods", async () => {
    const { b } = await pendingRequest();
    expect(
      (await b.approvalsCall("POST", "/approvals", { token: await b.approverToken("alice") })).status,
    ).toBe(405);
  });
});
