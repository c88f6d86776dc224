// Ending a github grant ends its token (CONTRACT §8, §8.1): self-release, admin revoke, signals, the sweep's
// re-decisions and expiry all DELETE /installation/token. A process that may not decrypt leaves the grant
// revocationPending and the sweep deletes the token; a token made for a grant that never became active is
// deleted too. The token is never in the table or a log in plaintext, and its ciphertext leaves once ended.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import type { Grant } from "../../lib/core/grant.ts";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { changeSignals } from "../../lib/core/signals.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { githubProvider, sealOnlyVault } from "../../lib/runtime/github-provider.ts";
import { NOW, sharedDynamo } from "../support/broker.ts";
import { useGithubRig } from "./support.ts";

const rig = useGithubRig();

/** The deps of an admin CLI (`grants revoke`, `signals set`): same table and config, no decrypt rights. */
const adminDeps = () => ({
  ...rig.broker.deps,
  providers: {
    github: githubProvider(rig.broker.resolved, {
      store: rig.broker.store,
      log: rig.broker.deps.log,
      configDir: "/",
      vault: sealOnlyVault("admin"),
    }),
  },
});

async function issued(): Promise<{ token: string; grantId: string }> {
  const res = await rig.issue();
  expect(res.status).toBe(200);
  return { token: res.body["access_token"] as string, grantId: res.body["grant_id"] as string };
}

const grant = async (id: string): Promise<Grant> => (await rig.broker.store.getGrant(id))!;
const deletes = () => rig.github.calls.filter((c) => c.method === "DELETE").length;

describe("ending a github grant deletes its token", () => {
  it("self-release deletes the token at once and forgets the ciphertext", async () => {
    const { token, grantId } = await issued();
    const res = await rig.broker.call("revoke", { token: grantId, subject_token: await rig.token() });
    expect(res.status).toBe(200);
    expect(await rig.github.tokenWorks(token)).toBe(false);
    const g = await grant(grantId);
    expect(g).toMatchObject({ status: "revoked", reason: "released" });
    expect(g.revocationPending).toBeFalsy();
    expect(g.tokenCiphertext).toBeUndefined();
    expect(g.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("an admin revoke without decrypt rights leaves it pending, and the sweep deletes the token", async () => {
    const { token, grantId } = await issued();
    await revokeGrant(adminDeps(), await grant(grantId), {
      reason: "incident",
      kind: "revoke",
      actor: "ops",
    });
    expect(await grant(grantId)).toMatchObject({ status: "revoked", revocationPending: true });
    expect(await rig.github.tokenWorks(token)).toBe(true);
    await sweepDue(rig.broker.deps);
    expect(await rig.github.tokenWorks(token)).toBe(false);
    const g = await grant(grantId);
    expect(g.revocationPending).toBeFalsy();
    expect(g.tokenCiphertext).toBeUndefined();
  });

  it("signals set revokes a now-denied grant, and the sweep deletes its token", async () => {
    const { token, grantId } = await issued();
    await changeSignals(adminDeps(), { workload: "web-ci", set: { quarantined: "true" } });
    expect(await grant(grantId)).toMatchObject({ status: "revoked", revocationPending: true });
    await sweepDue(rig.broker.deps);
    expect(await rig.github.tokenWorks(token)).toBe(false);
    await changeSignals(adminDeps(), { workload: "web-ci", clear: ["quarantined"] });
  });

  it("the sweep's re-decision deletes the token itself", async () => {
    const { token, grantId } = await issued();
    await rig.broker.store.setSignals("web-ci", { quarantined: "true" }, rig.clock.now());
    await rig.broker.store.markReevaluation("web-ci", rig.clock.now());
    await sweepDue(rig.broker.deps);
    expect(await grant(grantId)).toMatchObject({ status: "revoked" });
    expect(await rig.github.tokenWorks(token)).toBe(false);
    await rig.broker.store.clearSignals("web-ci", ["quarantined"], rig.clock.now());
  });

  it("expiry deletes the token, though GitHub would keep it valid for the rest of the hour", async () => {
    const { token, grantId } = await issued();
    rig.clock.set(NOW + 901_000);
    const before = deletes();
    const summary = await sweepDue(rig.broker.deps);
    expect(summary.expired).toBeGreaterThanOrEqual(1);
    expect(deletes()).toBeGreaterThan(before);
    const g = await grant(grantId);
    expect(g).toMatchObject({ status: "expired" });
    expect(g.revocationPending).toBeFalsy();
    expect(g.tokenCiphertext).toBeUndefined();
    expect(await rig.github.tokenWorks(token)).toBe(false);
  });

  it("a DELETE GitHub does not answer 204 or 401 stays pending and the next sweep retries it", async () => {
    const { token, grantId } = await issued();
    rig.github.fail({ route: "DELETE /installation/token", status: 502 });
    await rig.broker.call("revoke", { token: grantId, subject_token: await rig.token() });
    expect(await grant(grantId)).toMatchObject({ status: "revoked", revocationPending: true });
    expect(await rig.github.tokenWorks(token)).toBe(true);
    rig.github.fail({ route: "DELETE /installation/token", status: 500 });
    await sweepDue(rig.broker.deps);
    expect(await grant(grantId)).toMatchObject({ revocationPending: true });
    await sweepDue(rig.broker.deps);
    expect(await rig.github.tokenWorks(token)).toBe(false);
    expect((await grant(grantId)).revocationPending).toBeFalsy();
  });

  it("a token already dead at GitHub (401) counts as deleted", async () => {
    const { token, grantId } = await issued();
    rig.github.tokens.get(token)!.deleted = true;
    await rig.broker.call("revoke", { token: grantId, subject_token: await rig.token() });
    const g = await grant(grantId);
    expect(g.revocationPending).toBeFalsy();
    expect(g.tokenCiphertext).toBeUndefined();
  });

  it("deletes the token at once when the grant's activation write fails", async () => {
    const store = rig.broker.store;
    const transition = store.transition.bind(store);
    store.transition = async (id, from, to, patch) => {
      if (to === "active")
        throw Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" });
      return transition(id, from, to, patch);
    };
    const before = rig.github.tokens.size;
    try {
      const res = await rig.issue();
      expect(res.status).toBe(503);
    } finally {
      store.transition = transition;
    }
    const made = [...rig.github.tokens.values()].slice(before);
    expect(made).toHaveLength(1);
    expect(made[0]!.deleted).toBe(true);
  });

  it("a crash between the token and the activation: the sweep fails the grant and deletes the token", async () => {
    const provider = rig.broker.deps.providers.github!;
    const task = rig.broker.deps.tasks.get("push-docs")!;
    const grantId = `crash${Date.now()}`.padEnd(26, "0").slice(0, 26);
    const prepared = provider.prepare({
      task,
      workload: "web-ci",
      grantId,
      claims: { repository: "acme/web" },
      durationSeconds: 900,
      nowMs: rig.clock.now(),
    });
    const record: Grant = {
      grantId,
      workload: "web-ci",
      subject: "repo:acme/web:ref:refs/heads/main",
      issuer: "test",
      task: "push-docs",
      provider: "github",
      status: "issuing",
      issuedAt: new Date(NOW).toISOString().replace(".000Z", "Z"),
      expiresAt: new Date(NOW + 900_000).toISOString().replace(".000Z", "Z"),
      policyIds: [],
      sourceIp: "127.0.0.1",
      purpose: "",
      decisionId: "d",
      durationSeconds: 900,
      configVersion: rig.broker.deps.configVersion,
      subjectTokenSha256: "0".repeat(64),
    };
    await rig.broker.store.createGrant(record, NOW + 60_000);
    // The process makes the token, then dies before it can write the grant active.
    const { accessToken } = await provider.issue(prepared, record);
    expect(await rig.github.tokenWorks(accessToken)).toBe(true);
    rig.clock.set(NOW + 61_000);
    await sweepDue(rig.broker.deps);
    expect(await grant(grantId)).toMatchObject({ status: "failed", reason: "abandoned while issuing" });
    expect(await rig.github.tokenWorks(accessToken)).toBe(false);
    expect((await grant(grantId)).tokenCiphertext).toBeUndefined();
  });

  it("keeps no plaintext token in any table item or log line", async () => {
    const tokens = [...rig.github.tokens.keys()];
    expect(tokens.length).toBeGreaterThan(5);
    const { client } = await sharedDynamo();
    const items = JSON.stringify(
      (await client.send(new ScanCommand({ TableName: rig.broker.store["table"] as string }))).Items,
    );
    const logs = rig.logs.join("\n");
    expect(items).toContain("tokenSha256");
    for (const token of tokens) {
      expect(items).not.toContain(token);
      expect(items).not.toContain(token.slice(4, 24));
      expect(logs).not.toContain(token.slice(4, 24));
    }
  });
});
