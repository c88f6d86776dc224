// An aws-sts grant's life after issuance, end to end through dynalite and the IAM fixture: admin revoke,
// self-release, a crash between AssumeRole and the record update, the size fallback on the grant and in
// the audit trail, a revocation another process overwrote restored by the sweep's re-check, and pruning
// once the credential has surely expired.
import { describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { newId } from "../../lib/core/ids.ts";
import { FALLBACK_REASON, REAPPLIED_REASON, revokeGrant } from "../../lib/core/revoke-grant.ts";
import { PRUNED_REASON, sweepDue } from "../../lib/core/sweep.ts";
import { NOW, type TestBroker } from "../support/broker.ts";
import { createStsBroker, deployRequest, ROLE_NAME, revocationList, useStsRig } from "./support.ts";

const rig = useStsRig();

const mint = () => rig.broker.issuer.mint({ repository: "acme/web" }, { nowMs: rig.broker.clock.now() });
const listedIds = (): string[] => {
  const doc = rig.aws.policyDocument(ROLE_NAME) as
    | { Statement: { Condition: Record<string, Record<string, string[]>> }[] }
    | undefined;
  return (
    doc?.Statement.flatMap((s) => s.Condition["StringEquals"]?.["aws:PrincipalTag/credbroker-grant"] ?? []) ??
    []
  );
};
async function issue(): Promise<string> {
  const res = await rig.broker.call("token", deployRequest(await mint()));
  expect(res.status).toBe(200);
  return res.body["grant_id"] as string;
}

describe("aws-sts revocation", () => {
  it("an admin revoke lists the grant id in the role's credbroker-revocations policy", async () => {
    const grantId = await issue();
    const grant = (await rig.broker.store.getGrant(grantId))!;
    const revoked = await revokeGrant(rig.broker.deps, grant, {
      reason: "incident 42",
      kind: "admin",
      actor: "ops",
    });
    expect(revoked).toMatchObject({ status: "revoked", revocation: "grant-listed", reason: "incident 42" });
    expect(revoked?.revocationPending).toBeFalsy();
    expect(listedIds()).toEqual([grantId]);
  });

  it("lands 50 revocations at once on one role, each grant recorded as grant-listed", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await issue());
    rig.aws.setLatency("*", 2);
    const grants = await Promise.all(ids.map(async (id) => (await rig.broker.store.getGrant(id))!));
    const revoked = await Promise.all(
      grants.map((g) => revokeGrant(rig.broker.deps, g, { reason: "incident", kind: "admin" })),
    );
    expect(revoked.map((g) => g?.revocation)).toEqual(Array(50).fill("grant-listed"));
    expect([...listedIds()].sort()).toEqual([...ids].sort());
  });

  it("self-release through POST /revoke lists the grant id", async () => {
    const grantId = await issue();
    const res = await rig.broker.call("revoke", {
      token: grantId,
      subject_token: await mint(),
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    });
    expect(res.status).toBe(200);
    expect(await rig.broker.store.getGrant(grantId)).toMatchObject({
      status: "revoked",
      reason: "released",
      revocation: "grant-listed",
    });
    expect(listedIds()).toContain(grantId);
  });

  it("keeps a revocation IAM refused pending, and the sweep applies it later", async () => {
    const grantId = await issue();
    rig.aws.failNext("GetRolePolicy", { code: "ServiceUnavailable", status: 503, times: 10 });
    const revoked = await revokeGrant(rig.broker.deps, (await rig.broker.store.getGrant(grantId))!, {
      reason: "test",
      kind: "admin",
    });
    expect(revoked).toMatchObject({ status: "revoked", revocationPending: true });
    expect(listedIds()).not.toContain(grantId);

    rig.aws.reset();
    rig.broker.clock.advance(1_000);
    await sweepDue(rig.broker.deps);
    expect(await rig.broker.store.getGrant(grantId)).toMatchObject({
      status: "revoked",
      revocation: "grant-listed",
    });
    expect(listedIds()).toContain(grantId);
  });

  it("records the issue-time fallback on the grant and in the audit trail", async () => {
    const grantId = await issue();
    // A revocation list already at IAM's limit, of grants issued a minute ago.
    const full: string[] = [];
    const doc = (ids: string[]) => JSON.stringify(revocationList(ids));
    while (doc([...full, grantId]).length <= 10_240) full.push(newId(NOW - 60_000));
    rig.aws.rolePolicies.set(ROLE_NAME, new Map([["credbroker-revocations", doc(full)]]));
    const revoked = await revokeGrant(rig.broker.deps, (await rig.broker.store.getGrant(grantId))!, {
      reason: "test",
      kind: "admin",
    });
    expect(revoked).toMatchObject({ status: "revoked", revocation: "token-issue-time" });
    const audit = await rig.broker.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 1000 });
    expect(audit.items.some((e) => e.grantId === grantId && e.reasons?.includes(FALLBACK_REASON))).toBe(true);
    expect(JSON.stringify(rig.aws.policyDocument(ROLE_NAME))).toContain("aws:TokenIssueTime");
  });

  it("prunes the id five minutes after the credential's expiry, deleting the emptied policy", async () => {
    const b = await isolatedBroker();
    const grantId = await issueOn(b);
    await revokeGrant(b.deps, (await b.store.getGrant(grantId))!, { reason: "test", kind: "admin" });
    expect(listedIds()).toEqual([grantId]);
    const expiresAt = Date.parse((await b.store.getGrant(grantId))!.expiresAt);
    // Just past the recorded expiry a session may still be alive (the expiry was set before AssumeRole).
    b.clock.set(expiresAt + 1_000);
    expect(await sweepDue(b.deps)).toMatchObject({ pruned: 0, errors: 0 });
    expect(listedIds()).toEqual([grantId]);
    b.clock.set(expiresAt + 5 * 60_000);
    expect(await sweepDue(b.deps)).toMatchObject({ pruned: 1, errors: 0 });
    expect(rig.aws.policyDocument(ROLE_NAME)).toBeUndefined();
    expect(rig.aws.callsTo("DeleteRolePolicy")).toHaveLength(1);
    const audit = await b.store.listAudit({ sinceMs: NOW, untilMs: expiresAt + 3_600_000 });
    expect(audit.items.filter((e) => e.grantId === grantId && e.kind === "sweep")).toEqual([
      expect.objectContaining({ outcome: "change", reasons: [PRUNED_REASON] }),
    ]);
  });

  it("restores, on the sweep's re-check, a revocation another process's stale write removed", async () => {
    // Two processes (say the revoke function and an admin) with their own IAM writers, one table.
    const b = await isolatedBroker();
    const other = await createStsBroker(rig.aws, { store: b.store, issuer: b.issuer });
    const [first, second] = [await issueOn(b), await issueOn(b)];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let writing!: () => void;
    const secondWriting = new Promise<void>((r) => {
      writing = r;
    });
    // The other process read the empty policy; its write lands only after this one wrote and verified.
    rig.aws.intercept("PutRolePolicy", async (params) => {
      const doc = params["PolicyDocument"] ?? "";
      if (doc.includes(second) && !doc.includes(first)) {
        writing();
        await gate;
      }
    });
    const late = revokeGrant(other.deps, (await b.store.getGrant(second))!, { reason: "x", kind: "admin" });
    await secondWriting;
    const revokedFirst = await revokeGrant(b.deps, (await b.store.getGrant(first))!, {
      reason: "x",
      kind: "admin",
    });
    release();
    const revokedSecond = await late;
    rig.aws.intercept("PutRolePolicy", undefined);
    // Both were verified and recorded as in IAM, but the first id is gone from the role's policy.
    expect([revokedFirst?.revocation, revokedSecond?.revocation]).toEqual(["grant-listed", "grant-listed"]);
    expect(listedIds()).toEqual([second]);

    b.clock.advance(90_000);
    expect(await sweepDue(b.deps)).toMatchObject({ scanned: 2, retried: 1, errors: 0 });
    expect([...listedIds()].sort()).toEqual([first, second].sort());
    const audit = await b.store.listAudit({ sinceMs: NOW, untilMs: NOW + 3_600_000 });
    expect(audit.items.filter((e) => e.grantId === first && e.kind === "sweep")).toEqual([
      expect.objectContaining({
        outcome: "revoke",
        reasons: [REAPPLIED_REASON],
        revocationMode: "grant-listed",
      }),
    ]);
    // Read back once more later: now it holds, so nothing is written and the grants wait for pruning.
    const puts = rig.aws.callsTo("PutRolePolicy").length;
    b.clock.advance(90_000);
    expect(await sweepDue(b.deps)).toMatchObject({ scanned: 1, retried: 0, errors: 0 });
    expect(rig.aws.callsTo("PutRolePolicy")).toHaveLength(puts);
    b.clock.advance(90_000);
    expect(await sweepDue(b.deps)).toMatchObject({ scanned: 0 });
  });
});

/** A broker on a table of its own, so other tests' grants do not come due in its sweeps. */
const isolatedBroker = () => createStsBroker(rig.aws, { issuer: rig.broker.issuer });
async function issueOn(b: TestBroker): Promise<string> {
  const token = await b.issuer.mint({ repository: "acme/web" }, { nowMs: b.clock.now() });
  const res = await b.call("token", deployRequest(token));
  expect(res.status).toBe(200);
  return res.body["grant_id"] as string;
}

describe("a crash between AssumeRole and the grant update", () => {
  it("leaves the grant issuing, and the sweep fails it and revokes it by tag", async () => {
    // The store refuses the issuing → active write once, as if the process died right after AssumeRole.
    const store = rig.broker.store;
    const crashing = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === "transition")
          return async (...args: Parameters<DynamoGrantStore["transition"]>) => {
            if (args[1] === "issuing" && args[2] === "active") throw new Error("process died");
            return target.transition(...args);
          };
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const crashed = await createStsBrokerWithStore(crashing);
    const res = await crashed.call(
      "token",
      deployRequest(await crashed.issuer.mint({ repository: "acme/web" }, { nowMs: NOW })),
    );
    expect(res.status).toBe(503);
    expect(res.body["credentials"]).toBeUndefined();
    const sessionName = rig.aws.callsTo("AssumeRole")[0]!.params["RoleSessionName"]!;
    const grantId = sessionName.slice("cb-".length);
    expect(await store.getGrant(grantId)).toMatchObject({ status: "issuing" });

    rig.broker.clock.advance(61_000);
    await sweepDue(rig.broker.deps);
    expect(await store.getGrant(grantId)).toMatchObject({
      status: "failed",
      reason: "abandoned while issuing",
      revocation: "grant-listed",
    });
    expect(listedIds()).toContain(grantId);
  });
});

async function createStsBrokerWithStore(store: DynamoGrantStore): Promise<TestBroker> {
  return createStsBroker(rig.aws, { store, issuer: rig.broker.issuer });
}
