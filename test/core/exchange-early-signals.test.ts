// The token path starts its signals read from the workload the subject token claims, while the token is
// still being verified (lib/core/exchange.ts). Nothing a client sees may change: a decision uses only the
// verified workload's signals, and a token that fails verification is refused as before, whatever became of
// the read it started.
import { afterAll, describe, expect, it } from "vitest";
import type { SubjectTokenVerifier } from "../../lib/core/identity/verifier.ts";
import { baseConfig, closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";

afterAll(closeSharedDynamo);

/** Records every signals read, and lets a test fail them. */
function watchSignals(broker: Awaited<ReturnType<typeof createTestBroker>>) {
  const reads: string[] = [];
  let failing = false;
  const real = broker.store.getSignals.bind(broker.store);
  broker.store.getSignals = async (workload) => {
    reads.push(workload);
    if (failing) throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
    return real(workload);
  };
  return {
    reads,
    fail: () => {
      failing = true;
    },
  };
}

describe("the signals read on the token path", () => {
  it("is under way while the subject token is still being verified", async () => {
    const broker = await createTestBroker();
    const signals = watchSignals(broker);
    const real = broker.deps.verifier;
    let release!: () => void;
    const verifying = new Promise<void>((r) => {
      release = r;
    });
    broker.deps.verifier = {
      async verify(token) {
        await verifying;
        return real.verify(token);
      },
    };
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const pending = broker.exchange(token);
    // The verification is held: the read must already have been sent.
    for (let i = 0; i < 100 && signals.reads.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const readDuringVerify = [...signals.reads];
    release();
    const res = await pending;
    expect(readDuringVerify).toEqual(["web-ci"]);
    expect(res.status).toBe(200);
    // One read per request: the early one was used.
    expect(signals.reads).toEqual(["web-ci"]);
  });

  it("is decided with the verified workload's signals, not those of the workload the token claimed", async () => {
    const broker = await createTestBroker({
      config: (issuer) =>
        baseConfig(issuer, {
          workloads: [
            { name: "web-ci", issuer: "test", subject: "repo:acme/web:**" },
            { name: "reports-ci", issuer: "test", subject: "repo:acme/reports:**" },
          ],
        }),
    });
    await broker.store.setSignals("reports-ci", { quarantined: "true" }, NOW);
    const signals = watchSignals(broker);
    const real = broker.deps.verifier;
    // A verifier that maps the token to another subject than its payload names (as a claim mapping would).
    const remapping: SubjectTokenVerifier = {
      async verify(token) {
        const verified = await real.verify(token);
        return { ...verified, subject: "repo:acme/reports:ref:refs/heads/main" };
      },
    };
    broker.deps.verifier = remapping;
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const res = await broker.exchange(token);
    expect(signals.reads).toEqual(["web-ci", "reports-ci"]);
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: "access_denied" });
    const [event] = (await broker.store.listAudit({ sinceMs: NOW - 60_000, untilMs: NOW + 60_000 })).items;
    expect(event).toMatchObject({ outcome: "deny", workload: "reports-ci", policyIds: ["no-quarantined"] });
  });

  it("does not turn a refused token into a 503 when the read it started fails", async () => {
    const broker = await createTestBroker();
    const signals = watchSignals(broker);
    signals.fail();
    // Same issuer URL and claims, another key: the payload names web-ci, the signature is not the issuer's.
    const forger = await createTestIssuer(broker.issuer.issuer, broker.issuer.alg, broker.issuer.kid);
    const forged = await forger.mint({ repository: "acme/web" }, { nowMs: NOW });
    const res = await broker.exchange(forged);
    expect(signals.reads).toEqual(["web-ci"]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "invalid_request" });
    const [event] = (await broker.store.listAudit({ sinceMs: NOW - 60_000, untilMs: NOW + 60_000 })).items;
    expect(event).toMatchObject({ outcome: "error", errorCode: "subject_token_invalid" });
  });

  it("answers 503 when the read fails for a valid token, as before", async () => {
    const broker = await createTestBroker();
    watchSignals(broker).fail();
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
    const res = await broker.exchange(token);
    expect(res.status).toBe(503);
    expect(res.body).not.toHaveProperty("access_token");
    expect(await broker.store.listGrants()).toMatchObject({ items: [] });
  });
});
