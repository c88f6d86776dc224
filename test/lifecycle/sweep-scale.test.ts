// The sweep under load and failure: exactly-once transitions under concurrent sweeps, a time budget with
// resume, revocation failures retried, and DynamoDB reads that follow due grants, not active ones.
import { afterAll, describe, expect, it } from "vitest";
import type { Grant } from "../../lib/core/grant.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { changeSignals } from "../../lib/core/signals.ts";
import type { GrantStore } from "../../lib/core/store.ts";
import { PRUNED_REASON, type SweepSummary, sweepDue } from "../../lib/core/sweep.ts";
import { baseConfig, closeSharedDynamo, createTestBroker, NOW } from "../support/broker.ts";
import { activeGrant, seedableStore } from "./support.ts";

afterAll(closeSharedDynamo);

const sum = (summaries: SweepSummary[], key: "expired" | "revoked" | "skipped" | "retried" | "pruned") =>
  summaries.reduce((n, s) => n + s[key], 0);

async function allAudit(store: GrantStore) {
  return (await store.listAudit({ sinceMs: NOW - 3_600_000, untilMs: NOW + 86_400_000 })).items;
}

describe("concurrent sweeps", () => {
  it("give each of 2,000 due grants exactly one transition", { timeout: 180_000 }, async () => {
    const { store, seed } = await seedableStore();
    const broker = await createTestBroker({ store });
    const version = broker.resolved.version;
    // 1,500 that ran out, and 500 of a disabled workload that time made due for a recheck.
    const expiring = Array.from({ length: 1500 }, () =>
      activeGrant({ issuedAt: new Date(NOW - 600_000).toISOString(), configVersion: version }),
    );
    const denied = Array.from({ length: 500 }, () =>
      activeGrant({ workload: "old-job", subject: "repo:acme/old:x", configVersion: version }),
    );
    await seed([
      ...expiring.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })),
      ...denied.map((grant) => ({ grant, dueAtMs: NOW - 1_000 })),
    ]);

    const summaries = await Promise.all([sweepDue(broker.deps), sweepDue(broker.deps)]);
    expect(sum(summaries, "expired")).toBe(1500);
    expect(sum(summaries, "revoked")).toBe(500);
    expect(summaries.every((s) => s.complete && s.errors === 0)).toBe(true);

    const events = (await allAudit(store)).filter((e) => e.kind === "sweep");
    const perGrant = new Map<string, string[]>();
    for (const e of events) perGrant.set(e.grantId!, [...(perGrant.get(e.grantId!) ?? []), e.outcome]);
    expect(perGrant.size).toBe(2000);
    for (const g of expiring) expect(perGrant.get(g.grantId)).toEqual(["expire"]);
    for (const g of denied) expect(perGrant.get(g.grantId)).toEqual(["revoke"]);
    const sample = await Promise.all(
      [...expiring.slice(0, 20), ...denied.slice(0, 20)].map((g) => store.getGrant(g.grantId)),
    );
    expect(sample.slice(0, 20).every((g) => g?.status === "expired")).toBe(true);
    expect(sample.slice(20).every((g) => g?.status === "revoked" && g.reason === "workload disabled")).toBe(
      true,
    );
  });
});

describe("the time budget", () => {
  it("stops with a cursor and the next runs resume until every due grant is done, each once", {
    timeout: 120_000,
  }, async () => {
    const { store, seed } = await seedableStore();
    const broker = await createTestBroker({ store });
    const grants = Array.from({ length: 300 }, () =>
      activeGrant({
        issuedAt: new Date(NOW - 600_000).toISOString(),
        configVersion: broker.resolved.version,
      }),
    );
    await seed(grants.map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })));
    // Each full page read takes a second of the budget (an empty one none, as a query that finds nothing is
    // quick): deterministic, no wall-clock timing.
    const slow = new Proxy(store, {
      get(target, prop) {
        if (prop === "listDue")
          return async (...args: Parameters<GrantStore["listDue"]>) => {
            const page = await target.listDue(...args);
            broker.clock.advance((1_000 * page.items.length) / (args[2]?.limit ?? 100));
            return page;
          };
        const value = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const deps = { ...broker.deps, store: slow };

    const runs: SweepSummary[] = [];
    let cursor: string | undefined;
    do {
      const s = await sweepDue(deps, { budgetMs: 2_500, pageSize: 50, ...(cursor ? { cursor } : {}) });
      runs.push(s);
      cursor = s.cursor;
    } while (!runs.at(-1)!.complete && runs.length < 60);

    expect(runs[0]).toMatchObject({ complete: false });
    expect(runs[0]!.cursor).toBeDefined();
    expect(runs[0]!.oldestDueAgeSeconds).toBeGreaterThan(0);
    expect(runs.at(-1)).toMatchObject({ complete: true, oldestDueAgeSeconds: 0 });
    expect(runs.length).toBeGreaterThan(2);
    expect(sum(runs, "expired")).toBe(300);
    const expires = (await allAudit(store)).filter((e) => e.outcome === "expire");
    expect(new Set(expires.map((e) => e.grantId)).size).toBe(300);
    expect(expires).toHaveLength(300);
  });
});

describe("revocation failures", () => {
  it("are retried by the next sweep and never dropped", async () => {
    const calls: string[] = [];
    const flaky: CredentialProvider = {
      prepare: () => {
        throw new Error("not used");
      },
      issue: () => Promise.reject(new Error("not used")),
      async revoke(grant) {
        calls.push(`revoke ${grant.grantId}`);
        if (calls.length === 1)
          throw Object.assign(new Error("IAM unavailable"), { name: "ServiceUnavailable" });
        return "grant-listed";
      },
      async prune(grant) {
        calls.push(`prune ${grant.grantId}`);
      },
    };
    const { store, seed } = await seedableStore();
    const broker = await createTestBroker({
      store,
      config: (issuer) =>
        baseConfig(issuer, {
          tasks: [
            {
              name: "read-reports",
              provider: "jwt",
              audience: "https://reports.test",
              maxDurationSeconds: 300,
            },
            {
              name: "deploy-web",
              provider: "aws-sts",
              roleArn: "arn:aws:iam::111122223333:role/web-deployer",
              maxDurationSeconds: 900,
            },
          ],
        }),
      policies: `${'@id("ci-deploys")\npermit (principal, action, resource == Task::"deploy-web") when { principal.name == "web-ci" };\n'}
@id("no-quarantined")
forbid (principal, action, resource) when { principal.hasTag("signal:quarantined") && principal.getTag("signal:quarantined") == "true" };`,
      adapters: { providers: { "aws-sts": flaky } },
    });
    const grant: Grant = activeGrant({
      task: "deploy-web",
      provider: "aws-sts",
      roleArn: "arn:aws:iam::111122223333:role/web-deployer",
      lifetimeSeconds: 900,
      policyIds: ["ci-deploys"],
      configVersion: broker.resolved.version,
    });
    await seed([{ grant, dueAtMs: Date.parse(grant.expiresAt) }]);
    await broker.deps.store.putSweepState({ configVersion: broker.resolved.version }, undefined);

    const result = await changeSignals(broker.deps, { workload: "web-ci", set: { quarantined: "true" } });
    expect(result.revoked).toEqual([
      expect.objectContaining({ grantId: grant.grantId, status: "revoked", revocationPending: true }),
    ]);

    broker.clock.advance(1_000);
    const retry = await sweepDue(broker.deps);
    expect(retry).toMatchObject({ retried: 1, revoked: 1, errors: 0 });
    expect(await store.getGrant(grant.grantId)).toMatchObject({
      status: "revoked",
      revocation: "grant-listed",
    });
    expect((await store.getGrant(grant.grantId))!.revocationPending).toBeFalsy();
    expect(await sweepDue(broker.deps)).toMatchObject({ retried: 0, revoked: 0 });

    // Once the credential has surely expired (five minutes past its expiry), its id leaves the role's list.
    broker.clock.set(Date.parse(grant.expiresAt) + 1_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ pruned: 0 });
    broker.clock.set(Date.parse(grant.expiresAt) + 5 * 60_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ pruned: 1 });
    expect(calls).toEqual([`revoke ${grant.grantId}`, `revoke ${grant.grantId}`, `prune ${grant.grantId}`]);
    const events = (await allAudit(store)).filter((e) => e.grantId === grant.grantId);
    expect(events.filter((e) => e.outcome === "revoke")).toHaveLength(1);
    // Every sweep action is an audit event, the prune too.
    expect(events.filter((e) => e.kind === "sweep")).toEqual([
      expect.objectContaining({ outcome: "change", reasons: [PRUNED_REASON] }),
    ]);
  });
});

describe("cost", () => {
  async function readsForSweep(active: number): Promise<{ reads: number; summary: SweepSummary }> {
    let reads = 0;
    const { store, seed } = await seedableStore({ onRead: (n) => (reads += n) });
    const broker = await createTestBroker({ store });
    const version = broker.resolved.version;
    const longLived = Array.from({ length: active }, () =>
      activeGrant({ lifetimeSeconds: 3_600, configVersion: version }),
    );
    const due = Array.from({ length: 100 }, () =>
      activeGrant({ lifetimeSeconds: 60, configVersion: version }),
    );
    await seed([...longLived, ...due].map((grant) => ({ grant, dueAtMs: Date.parse(grant.expiresAt) })));
    // The first sweep after a deploy reads every live grant once (the new config version); not measured.
    expect(await sweepDue(broker.deps, { pageSize: 1_000 })).toMatchObject({ complete: true, expired: 0 });
    broker.clock.set(NOW + 61_000);
    reads = 0;
    const summary = await sweepDue(broker.deps);
    return { reads, summary };
  }

  it("reads DynamoDB items in proportion to due grants, not active ones (1,000 vs 20,000 active, 100 due)", {
    timeout: 300_000,
  }, async () => {
    const small = await readsForSweep(1_000);
    const large = await readsForSweep(20_000);
    expect(small.summary).toMatchObject({ expired: 100, complete: true });
    expect(large.summary).toMatchObject({ expired: 100, complete: true });
    process.stdout.write(
      `sweep reads: ${small.reads} items with 1,000 active grants, ${large.reads} with 20,000 (100 due)\n`,
    );
    expect(large.reads).toBe(small.reads);
    // 100 due grants + the sweep state, the re-evaluation marks and one peek per shard for the lag figure.
    expect(large.reads).toBeLessThanOrEqual(100 + 1 + 1 + 8);
  });
});
