// The token path decides while the signals are read, on the signals the workload had last time
// (lib/core/policy/speculative-decision.ts). The answer must always be the one deciding on the signals just
// read would give: a guess is only ever a shortcut to the same answer.
import { afterAll, describe, expect, it } from "vitest";
import type { Authorizer, DecisionInput } from "../../lib/core/policy/authorizer.ts";
import {
  decideAsSignalsArrive,
  type SignalsSeen,
  sameSignals,
  signalsSeen,
} from "../../lib/core/policy/speculative-decision.ts";
import { closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";

afterAll(closeSharedDynamo);

/** An authorizer that records the signals of each decision and denies a quarantined workload. */
function recording(): Authorizer & { decided: Record<string, string>[] } {
  const decided: Record<string, string>[] = [];
  const decide = (input: DecisionInput) => {
    const signals = Object.fromEntries(
      Object.entries(input.tags)
        .filter(([k]) => k.startsWith("signal:"))
        .map(([k, v]) => [k.slice("signal:".length), v]),
    );
    decided.push(signals);
    const quarantined = signals["quarantined"] === "true";
    return {
      allowed: !quarantined,
      policyIds: [quarantined ? "no-quarantined" : "permit"],
      reasons: [],
      erroredPolicyIds: [],
    };
  };
  return {
    decided,
    decide,
    decideApproval: () => {
      throw new Error("not used");
    },
  };
}

const inputOf = (signals: Record<string, string>): DecisionInput => ({
  workload: { name: "web-ci", issuer: "test", subject: "repo:acme/web:ref:refs/heads/main" },
  tags: Object.fromEntries(Object.entries(signals).map(([k, v]) => [`signal:${k}`, v])),
  task: { name: "read-reports", provider: "jwt", sensitivity: "low" },
  context: { sourceIp: "127.0.0.1", nowMs: NOW, durationSeconds: 60, purpose: "" },
});

/** One decision for `workload`, whose read answers `signals` at once. */
const decideOn = (
  authorizer: Authorizer,
  seen: SignalsSeen,
  workload: string,
  signals: Record<string, string>,
) => decideAsSignalsArrive(authorizer, seen, workload, inputOf, Promise.resolve(signals));

describe("deciding while the signals are read", () => {
  it("decides before the read has answered, and that answer stands when the read returns the same signals", async () => {
    const authorizer = recording();
    let answer!: (s: Record<string, string>) => void;
    const read = new Promise<Record<string, string>>((r) => {
      answer = r;
    });
    const pending = decideAsSignalsArrive(authorizer, signalsSeen(), "web-ci", inputOf, read);
    expect(authorizer.decided).toEqual([{}]);
    answer({});
    expect(await pending).toMatchObject({ allowed: true });
    expect(authorizer.decided).toEqual([{}]);
  });

  it("decides again on what was read when the signals changed since the last read", async () => {
    const authorizer = recording();
    const seen = signalsSeen();
    await decideOn(authorizer, seen, "web-ci", {});
    const result = await decideOn(authorizer, seen, "web-ci", { quarantined: "true" });
    expect(result).toMatchObject({ allowed: false, policyIds: ["no-quarantined"] });
    expect(authorizer.decided).toEqual([{}, {}, { quarantined: "true" }]);
  });

  it("guesses each workload's signals from its own last read", async () => {
    const authorizer = recording();
    const seen = signalsSeen();
    await decideOn(authorizer, seen, "web-ci", { tier: "gold" });
    await decideOn(authorizer, seen, "other", {});
    authorizer.decided.length = 0;
    const result = await decideOn(authorizer, seen, "web-ci", { tier: "gold" });
    expect(result).toMatchObject({ allowed: true });
    expect(authorizer.decided).toEqual([{ tier: "gold" }]);
  });

  it("passes a failed read on, whatever was guessed", async () => {
    const authorizer = recording();
    const failed = Promise.reject(new Error("throttled"));
    await expect(decideAsSignalsArrive(authorizer, signalsSeen(), "web-ci", inputOf, failed)).rejects.toThrow(
      "throttled",
    );
  });

  it("decides on what was read when the guess could not be decided", async () => {
    let calls = 0;
    const authorizer = recording();
    const flaky: Authorizer = {
      ...authorizer,
      decide: (input) => {
        if (calls++ === 0) throw new Error("wasm trap");
        return authorizer.decide(input);
      },
    };
    expect(
      await decideAsSignalsArrive(flaky, signalsSeen(), "web-ci", inputOf, Promise.resolve({})),
    ).toMatchObject({ allowed: true });
    expect(calls).toBe(2);
  });

  it("keeps the most recently read workloads up to its limit", () => {
    const seen = signalsSeen(2);
    seen.set("a", { x: "1" });
    seen.set("b", {});
    seen.set("a", { x: "2" });
    seen.set("c", {});
    expect(seen.get("b")).toBeUndefined();
    expect(seen.get("a")).toEqual({ x: "2" });
    expect(seen.get("c")).toEqual({});
  });

  it("compares signals by name and value", () => {
    expect(sameSignals({}, {})).toBe(true);
    expect(sameSignals({ a: "1" }, { a: "1" })).toBe(true);
    expect(sameSignals({ a: "1" }, { a: "2" })).toBe(false);
    expect(sameSignals({ a: "1" }, { b: "1" })).toBe(false);
    expect(sameSignals({ a: "1" }, {})).toBe(false);
    expect(sameSignals({}, { a: "1" })).toBe(false);
  });
});

describe("the token path with a signal set between two requests", () => {
  it("denies the second request, though the first read found no signals", async () => {
    const broker = await createTestBroker();
    const first = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(first.status).toBe(200);
    await broker.store.setSignals("web-ci", { quarantined: "true" }, NOW);
    const second = await broker.exchange(
      await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }),
    );
    expect(second.status).toBe(403);
    await broker.store.setSignals("web-ci", { quarantined: "false" }, NOW);
    const third = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(third.status).toBe(200);
  });
});
