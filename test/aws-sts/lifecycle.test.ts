// An aws-sts grant's life after issuance, end to end through dynalite and the IAM fixture: admin revoke,
// self-release, a crash between AssumeRole and the record update, the size fallback on the grant and in
// the audit trail, and pruning once the credential has expired.
import { describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { newId } from "../../lib/core/ids.ts";
import { FALLBACK_REASON, revokeGrant } from "../../lib/core/revoke-grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { NOW, type TestBroker } from "../support/broker.ts";
import { createStsBroker, deployRequest, ROLE_NAME, useStsRig } from "./support.ts";

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
    const doc = (ids: string[]) =>
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "CredbrokerRevokedGrants",
            Effect: "Deny",
            Action: "*",
            Resource: "*",
            Condition: { StringEquals: { "aws:PrincipalTag/credbroker-grant": ids } },
          },
        ],
      });
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

  it("prunes the id once the revoked grant's credential has expired, deleting the emptied policy", async () => {
    const grantId = await issue();
    await revokeGrant(rig.broker.deps, (await rig.broker.store.getGrant(grantId))!, {
      reason: "test",
      kind: "admin",
    });
    expect(listedIds()).toEqual([grantId]);
    rig.broker.clock.advance(3_600_000 + 1_000);
    const summary = await sweepDue(rig.broker.deps);
    expect(summary.pruned).toBeGreaterThanOrEqual(1);
    expect(rig.aws.policyDocument(ROLE_NAME)).toBeUndefined();
    expect(rig.aws.callsTo("DeleteRolePolicy")).toHaveLength(1);
  });
});

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
