// Each context change revokes exactly the grants it affects, and no others (CONTRACT §3, §6; issue 4).
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { changeSignals } from "../../lib/core/signals.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { closeSharedDynamo, createTestBroker, NOW, newStore, type TestBroker } from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";

const EXCEPTION_EXPIRES = NOW + 120_000;

const POLICIES = `
@id("reads-reports")
permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.hasTag("repository") && (principal.getTag("repository") == "acme/web" || principal.getTag("repository") == "acme/reports") };

@id("web-publishes")
permit (principal, action == Action::"issue", resource == Task::"publish") when { principal.name == "web-ci" };

@id("owner-required")
forbid (principal, action, resource == Task::"publish") unless { principal has owner };

@id("no-quarantined")
forbid (principal, action, resource)
when { principal.hasTag("signal:quarantined") && principal.getTag("signal:quarantined") == "true" };

@id("legacy-exception")
@exception("SEC-1")
@expires("${new Date(EXCEPTION_EXPIRES).toISOString()}")
permit (principal == Workload::"legacy-cron", action, resource == Task::"read-reports");
`;

type Config = Record<string, unknown> & {
  workloads: Record<string, unknown>[];
  tasks: Record<string, unknown>[];
};

function config(issuer: TestIssuer): Config {
  return {
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.test",
    issuers: [{ name: "test", issuer: issuer.issuer, jwks: issuer.jwks, algorithms: [issuer.alg] }],
    // web-ci last: removing it moves no other entry, so only its own grants are re-decided.
    workloads: [
      { name: "reports-job", issuer: "test", subject: "repo:acme/reports:**", owner: "team-data@acme.test" },
      { name: "legacy-cron", issuer: "test", subject: "repo:acme/legacy:*" },
      { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
    ],
    tasks: [
      {
        name: "read-reports",
        provider: "jwt",
        audience: "https://reports.test",
        maxDurationSeconds: 300,
        sensitivity: "low",
      },
      {
        name: "publish",
        provider: "jwt",
        audience: "https://reports.test",
        maxDurationSeconds: 300,
        sensitivity: "medium",
      },
    ],
    policies: ["policies/*.cedar"],
  };
}

const webCi = (c: Config) => c.workloads.find((w) => w["name"] === "web-ci")!;

let issuer: TestIssuer;
let store: DynamoGrantStore;
let broker: TestBroker;

beforeEach(async () => {
  issuer ??= await createTestIssuer();
  store = await newStore();
  broker = await createTestBroker({ issuer, store, config, policies: POLICIES });
});
afterAll(closeSharedDynamo);

async function issue(b: TestBroker, sub: string, repository: string, task = "read-reports"): Promise<string> {
  const token = await issuer.mint({ sub, repository }, { nowMs: b.clock.now() });
  const res = await b.exchange(token, { scope: task });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body["grant_id"] as string;
}
const web = (b = broker, task?: string) => issue(b, "repo:acme/web:ref:refs/heads/main", "acme/web", task);
const reports = (b = broker) => issue(b, "repo:acme/reports:ref:refs/heads/main", "acme/reports");
const legacy = (b = broker) => issue(b, "repo:acme/legacy:main", "acme/legacy");

async function statuses(ids: string[]): Promise<Record<string, Pick<Grant, "status" | "reason">>> {
  const out: Record<string, Pick<Grant, "status" | "reason">> = {};
  for (const id of ids) {
    const g = (await store.getGrant(id))!;
    out[id] = { status: g.status, ...(g.reason ? { reason: g.reason } : {}) };
  }
  return out;
}

async function auditFor(grantId: string) {
  const page = await store.listAudit({ sinceMs: NOW - 60_000, untilMs: NOW + 86_400_000 });
  return page.items.filter((e) => e.grantId === grantId && e.kind !== "token");
}

/** The same table and clock under a changed config: what a deploy of a new config version looks like. */
async function redeploy(
  change: (c: Config, issuer: TestIssuer) => void,
  policies = POLICIES,
): Promise<TestBroker> {
  const next = await createTestBroker({
    issuer,
    store,
    policies,
    config: (i) => {
      const c = config(i);
      change(c, i);
      return c;
    },
  });
  next.clock.set(broker.clock.now());
  return next;
}

describe("the grant record", () => {
  it("records the config version and the claim tags, never the subject token", async () => {
    const id = await web();
    const grant = (await store.getGrant(id))!;
    expect(grant.configVersion).toBe(broker.resolved.version);
    expect(grant.claimTags).toMatchObject({
      repository: "acme/web",
      sub: "repo:acme/web:ref:refs/heads/main",
    });
    expect(JSON.stringify(grant)).not.toContain("eyJ");
  });
});

describe("expiry", () => {
  it("expires the grants that ran out and leaves the others active", async () => {
    const first = await web();
    broker.clock.advance(200_000);
    const second = await web();
    broker.clock.set(NOW + 301_000);
    const summary = await sweepDue(broker.deps);
    expect(summary).toMatchObject({ expired: 1, revoked: 0, complete: true, oldestDueAgeSeconds: 0 });
    expect(await statuses([first, second])).toEqual({
      [first]: { status: "expired" },
      [second]: { status: "active" },
    });
    expect((await auditFor(first)).map((e) => e.outcome)).toEqual(["expire"]);
  });
});

describe("signals", () => {
  it("revokes that workload's grants now denied before returning, and no others", async () => {
    const [w1, w2, r1] = [await web(), await web(), await reports()];
    const result = await changeSignals(broker.deps, {
      workload: "web-ci",
      set: { quarantined: "true" },
      actor: "ir-bot",
    });
    expect(result.revoked.map((g) => g.grantId).sort()).toEqual([w1, w2].sort());
    expect(await statuses([w1, w2, r1])).toEqual({
      [w1]: { status: "revoked", reason: "denied by policy: no-quarantined" },
      [w2]: { status: "revoked", reason: "denied by policy: no-quarantined" },
      [r1]: { status: "active" },
    });
    // The grant names the policy that ended it, as its audit event does, not the permit that allowed it.
    expect((await store.getGrant(w1))!.policyIds).toEqual(["no-quarantined"]);
    expect((await store.getGrant(r1))!.policyIds).toEqual(["reads-reports"]);
    expect(await auditFor(w1)).toEqual([
      expect.objectContaining({
        kind: "signal",
        outcome: "revoke",
        policyIds: ["no-quarantined"],
        actor: "ir-bot",
      }),
    ]);
    // New decisions see the signal too, and clearing it lets the workload in again.
    const token = await issuer.mint(
      { sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" },
      { nowMs: NOW },
    );
    expect((await broker.exchange(token)).status).toBe(403);
    await changeSignals(broker.deps, { workload: "web-ci", clear: ["quarantined"] });
    expect((await broker.exchange(token)).status).toBe(200);
  });

  it("leaves grants the signal does not deny", async () => {
    const w = await web();
    const result = await changeSignals(broker.deps, { workload: "web-ci", set: { "edr.posture": "ok" } });
    expect(result).toMatchObject({ evaluated: 1, revoked: [] });
    expect((await store.getGrant(w))!.status).toBe("active");
  });

  it("refuses a malformed signal name before writing anything", async () => {
    await expect(
      changeSignals(broker.deps, { workload: "web-ci", set: { "Bad Name": "x" } }),
    ).rejects.toThrow(TypeError);
    expect(await store.getSignals("web-ci")).toEqual({});
  });

  it("leaves a mark the next sweep finishes when the process dies after storing the signal", async () => {
    const w = await web();
    // What changeSignals does before it re-evaluates; the re-evaluation itself never ran.
    await store.markReevaluation("web-ci", broker.clock.now());
    await store.setSignals("web-ci", { quarantined: "true" }, broker.clock.now());
    const summary = await sweepDue(broker.deps);
    expect(summary.revoked).toBe(1);
    expect((await store.getGrant(w))!.reason).toBe("denied by policy: no-quarantined");
    // The mark stays for the issuing timeout (a request decided before the signal may still record a grant).
    expect(await store.listReevaluations()).toHaveLength(1);
    broker.clock.advance(61_000);
    await sweepDue(broker.deps);
    expect(await store.listReevaluations()).toEqual([]);
  });
});

describe("config changes, on the next sweep", () => {
  it.each([
    {
      change: "disabling a workload",
      apply: (c: Config) => {
        webCi(c)["disabled"] = true;
      },
      revoked: ["web-read", "web-publish"],
      reason: "workload disabled",
      // A workload change reads that workload's live grants only, not reports-job's.
      scanned: 2,
    },
    {
      change: "removing a workload",
      apply: (c: Config) => {
        c.workloads.splice(c.workloads.indexOf(webCi(c)), 1);
      },
      revoked: ["web-read", "web-publish"],
      reason: "workload removed",
      scanned: 2,
    },
    {
      change: "removing the owner a policy requires",
      apply: (c: Config) => {
        delete webCi(c)["owner"];
      },
      revoked: ["web-publish"],
      reason: "denied by policy: owner-required",
      scanned: 2,
    },
    {
      change: "removing a task",
      apply: (c: Config) => {
        c.tasks.splice(1, 1);
      },
      revoked: ["web-publish"],
      reason: "task removed",
      // Not a workload change: a new task list re-decides every live grant once.
      scanned: 3,
    },
  ])("$change revokes exactly the affected grants", async ({ apply, revoked, reason, scanned }) => {
    const ids: Record<string, string> = {
      "web-read": await web(),
      "web-publish": await web(broker, "publish"),
      "reports-read": await reports(),
    };
    expect(await sweepDue(broker.deps)).toMatchObject({ revoked: 0, complete: true });
    const next = await redeploy(apply);
    const summary = await sweepDue(next.deps);
    expect(summary).toMatchObject({ revoked: revoked.length, scanned, complete: true });
    for (const [name, id] of Object.entries(ids)) {
      const grant = (await store.getGrant(id))!;
      if (revoked.includes(name)) expect(grant, name).toMatchObject({ status: "revoked", reason });
      else expect(grant.status, name).toBe("active");
    }
    // Applied once: marks stay through the issuing timeout (a request decided under the old config may
    // still record a grant), then the sweep has nothing left to do.
    next.clock.advance(61_000);
    expect(await sweepDue(next.deps)).toMatchObject({ revoked: 0 });
    expect(await store.listReevaluations()).toEqual([]);
    expect(await sweepDue(next.deps)).toMatchObject({ revoked: 0, reevaluated: 0, scanned: 0 });
  });

  it("a new policy version re-evaluates every live grant once and revokes those now denied", async () => {
    const [w, r] = [await web(), await reports()];
    await sweepDue(broker.deps);
    const forbid = `${POLICIES}\n@id("no-reports-job")\nforbid (principal == Workload::"reports-job", action, resource);\n`;
    const next = await redeploy(() => {}, forbid);
    const summary = await sweepDue(next.deps);
    expect(summary).toMatchObject({ revoked: 1, complete: true });
    expect(await statuses([w, r])).toEqual({
      [w]: { status: "active" },
      [r]: { status: "revoked", reason: "denied by policy: no-reports-job" },
    });
    expect((await store.getGrant(r))!.policyIds).toEqual(["no-reports-job"]);
    expect(await auditFor(r)).toEqual([
      expect.objectContaining({ kind: "sweep", outcome: "revoke", policyIds: ["no-reports-job"] }),
    ]);
    expect(await store.getSweepState()).toMatchObject({ configVersion: next.resolved.version });
    expect((await store.getSweepState())?.pass).toBeUndefined();
    expect(await sweepDue(next.deps)).toMatchObject({ reevaluated: 0, scanned: 0 });
  });
});

describe("time", () => {
  it("revokes a grant only an exception allowed, on the first sweep after the exception expires", async () => {
    const [l, w] = [await legacy(), await web()];
    expect((await store.getGrant(l))!.policyIds).toEqual(["legacy-exception"]);
    broker.clock.set(EXCEPTION_EXPIRES - 1_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ revoked: 0, scanned: 0 });
    broker.clock.set(EXCEPTION_EXPIRES + 1_000);
    expect(await sweepDue(broker.deps)).toMatchObject({ revoked: 1, scanned: 1 });
    expect(await statuses([l, w])).toEqual({
      [l]: { status: "revoked", reason: "exception expired: legacy-exception" },
      [w]: { status: "active" },
    });
    // And new decisions ignore it.
    const token = await issuer.mint({ sub: "repo:acme/legacy:main" }, { nowMs: broker.clock.now() });
    expect((await broker.exchange(token)).status).toBe(403);
  });

  it("revokes a grant when the time window that allowed it closes, at the hour boundary", async () => {
    const windowed = `
@id("morning-only")
permit (principal, action == Action::"issue", resource == Task::"read-reports") when { context.hourUtc < 11 };
`;
    const b = await createTestBroker({ issuer, store, config, policies: windowed });
    b.clock.set(NOW + 58 * 60_000); // 10:58 UTC
    const id = await web(b);
    b.clock.set(NOW + 59 * 60_000);
    expect(await sweepDue(b.deps)).toMatchObject({ revoked: 0 });
    b.clock.set(NOW + 60 * 60_000 + 1_000); // 11:00:01, before the grant's own expiry at 11:03
    expect(await sweepDue(b.deps)).toMatchObject({ revoked: 1, expired: 0 });
    expect(await store.getGrant(id)).toMatchObject({
      status: "revoked",
      reason: "no policy permits it now",
      policyIds: ["morning-only"],
    });
  });

  it("keeps a time-window grant that is still allowed and looks again only at the next hour", async () => {
    const windowed = `
@id("business-hours")
permit (principal, action == Action::"issue", resource == Task::"read-reports") when { context.hourUtc < 18 };
`;
    const b = await createTestBroker({ issuer, store, config, policies: windowed });
    b.clock.set(NOW + 58 * 60_000);
    const id = await web(b);
    b.clock.set(NOW + 60 * 60_000 + 1_000);
    expect(await sweepDue(b.deps)).toMatchObject({ revoked: 0, reevaluated: 1 });
    b.clock.advance(60_000);
    expect(await sweepDue(b.deps)).toMatchObject({ reevaluated: 0, scanned: 0 });
    expect((await store.getGrant(id))!.status).toBe("active");
  });
});

describe("self-release (POST /revoke)", () => {
  it("ends the caller's own grant with reason released", async () => {
    const id = await web();
    const token = await issuer.mint(
      { sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" },
      { nowMs: NOW },
    );
    const res = await broker.call("revoke", { token: id, subject_token: token });
    expect(res).toMatchObject({ status: 200, body: {} });
    expect(await store.getGrant(id)).toMatchObject({ status: "revoked", reason: "released" });
    expect((await auditFor(id)).map((e) => e.outcome)).toEqual(["release"]);
  });

  it("answers 200 but leaves another workload's grant alone", async () => {
    const id = await web();
    const other = await issuer.mint(
      { sub: "repo:acme/reports:ref:refs/heads/main", repository: "acme/reports" },
      { nowMs: NOW },
    );
    expect((await broker.call("revoke", { token: id, subject_token: other })).status).toBe(200);
    expect((await store.getGrant(id))!.status).toBe("active");
  });
});
