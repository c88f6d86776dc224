// The client library's wait for approval (lib/client/approval-wait.ts) against `credbroker dev` over
// loopback HTTP: it polls at the broker's interval, grows it on slow_down, and ends on every §10 answer.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeWaitingForApproval } from "../../lib/client/approval-wait.ts";
import { BrokerClient } from "../../lib/client/broker-client.ts";
import { ApprovalNotGranted } from "../../lib/client/errors.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import { type ClientTestBroker, startClientTestBroker } from "../client/support.ts";

let broker: ClientTestBroker;
let client: BrokerClient;
beforeAll(async () => {
  broker = await startClientTestBroker();
  client = new BrokerClient({ url: broker.dev.url });
}, 60_000);
afterAll(() => broker?.close());

const decide = async (id: string, decision: "approve" | "deny") => {
  const token = await broker.dev.devApprovers.mint({
    sub: "alice",
    claims: { groups: "sre", email: "alice@acme.example" },
    audience: broker.audience,
    nowMs: Date.now(),
  });
  return client.decideApproval({ approvalId: id, decision, approverToken: token, reason: "test" });
};

const request = (purpose: string) => async () => ({
  subjectToken: await broker.mint("agent:ops", {}),
  task: "rotate-prod-db",
  purpose,
});

describe("exchangeWaitingForApproval", () => {
  it("waits the broker's interval, grows it on slow_down, and returns the credential once approved", async () => {
    const sleeps: number[] = [];
    const pending: string[] = [];
    const response = await exchangeWaitingForApproval(client, request("client wait"), {
      waitSeconds: 120,
      onPending: (p) => pending.push(p.approvalId),
      // The clock does not move while "sleeping": the broker sees the poll too early and says slow_down.
      sleep: async (ms) => {
        sleeps.push(ms);
        if (sleeps.length === 2) await decide(pending[0]!, "approve");
      },
    });
    expect(response).toMatchObject({ scope: "rotate-prod-db", token_type: "Bearer" });
    expect(pending).toHaveLength(1);
    expect(sleeps).toEqual([5000, 10_000]);
  });

  it("ends with ApprovalNotGranted(denied) when an approver denies", async () => {
    const err = await exchangeWaitingForApproval(client, request("client deny"), {
      waitSeconds: 120,
      onPending: (p) => void decide(p.approvalId, "deny"),
      sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 200))),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApprovalNotGranted);
    expect(err).toMatchObject({ reason: "denied" });
  });

  it("ends with ApprovalNotGranted(timeout) when the wait runs out first", async () => {
    const err = await exchangeWaitingForApproval(client, request("client timeout"), { waitSeconds: 1 }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ reason: "timeout", message: expect.stringContaining("still pending") });
  });
});

describe("exchangeWaitingForApproval and a lapse", () => {
  it("ends with ApprovalNotGranted(expired) when nobody decides before the request lapses", async () => {
    const clock = fixedClock(Date.now());
    const frozen = await startClientTestBroker({ clock });
    try {
      const c = new BrokerClient({ url: frozen.dev.url });
      const err = await exchangeWaitingForApproval(
        c,
        async () => ({
          subjectToken: await frozen.mint("agent:ops", {}, { nowMs: clock.now() }),
          task: "rotate-prod-db",
          purpose: "nobody answers",
        }),
        // Each wait moves the broker's clock past the demo task's 900 s window.
        { waitSeconds: 3600, sleep: async () => clock.advance(901_000) },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApprovalNotGranted);
      expect(err).toMatchObject({ reason: "expired", message: expect.stringContaining("lapsed") });
    } finally {
      await frozen.close();
    }
  }, 60_000);
});

describe("the audit of a wait for approval", () => {
  it("a 60-second --wait leaves one request event and no error events, and counts its polls on the request", async () => {
    const clock = fixedClock(Date.now());
    const frozen = await startClientTestBroker({ clock });
    try {
      const c = new BrokerClient({ url: frozen.dev.url });
      const startedMs = clock.now();
      let approvalId = "";
      const err = await exchangeWaitingForApproval(
        c,
        async () => ({
          subjectToken: await frozen.mint("agent:ops", {}, { nowMs: clock.now() }),
          task: "rotate-prod-db",
          purpose: "a minute of waiting",
        }),
        {
          waitSeconds: 60,
          onPending: (p) => {
            approvalId = p.approvalId;
          },
          now: () => clock.now(),
          // Each wait moves the broker's clock by the interval it asked for: a minute passes in polls.
          sleep: async (ms) => clock.advance(ms),
        },
      ).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "timeout" });
      const events = (
        await frozen.dev.deps.store.listAudit({ sinceMs: startedMs - 1000, untilMs: clock.now() + 1000 })
      ).items;
      expect(events.filter((e) => e.approvalId === approvalId)).toEqual([
        expect.objectContaining({ kind: "approval", outcome: "pending", task: "rotate-prod-db" }),
      ]);
      expect(events.filter((e) => e.outcome === "error")).toEqual([]);
      // 60 s at the demo's 5-second interval: a poll at 5, 10, … 60 s after the request, each counted once.
      expect((await frozen.dev.deps.store.approvals?.get(approvalId))?.polls).toBe(12);
    } finally {
      await frozen.close();
    }
  }, 60_000);

  it("records the request, each decision and the issue, and not the polls in between", async () => {
    const clock = fixedClock(Date.now());
    const frozen = await startClientTestBroker({ clock });
    try {
      const c = new BrokerClient({ url: frozen.dev.url });
      const startedMs = clock.now();
      let approvalId = "";
      let sleeps = 0;
      const response = await exchangeWaitingForApproval(
        c,
        async () => ({
          subjectToken: await frozen.mint("agent:ops", {}, { nowMs: clock.now() }),
          task: "rotate-prod-db",
          purpose: "approved after a while",
        }),
        {
          waitSeconds: 600,
          onPending: (p) => {
            approvalId = p.approvalId;
          },
          now: () => clock.now(),
          sleep: async (ms) => {
            clock.advance(ms);
            if (++sleeps === 6) {
              const token = await frozen.dev.devApprovers.mint({
                sub: "alice",
                claims: { groups: "sre", email: "alice@acme.example" },
                audience: frozen.audience,
                nowMs: clock.now(),
              });
              await c.decideApproval({ approvalId, decision: "approve", approverToken: token, reason: "ok" });
            }
          },
        },
      );
      expect(response).toMatchObject({ scope: "rotate-prod-db" });
      const events = (
        await frozen.dev.deps.store.listAudit({ sinceMs: startedMs - 1000, untilMs: clock.now() + 1000 })
      ).items.filter((e) => e.approvalId === approvalId);
      expect(events.map((e) => `${e.kind}:${e.outcome}`).sort()).toEqual(
        ["approval:pending", "approval:approve", "token:issue"].sort(),
      );
      expect((await frozen.dev.deps.store.approvals?.get(approvalId))?.polls).toBe(6);
    } finally {
      await frozen.close();
    }
  }, 60_000);
});
