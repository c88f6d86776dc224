// Rotate after use (CONTRACT §15): ending a rotateAfterUse grant, whichever way, starts the secret's
// rotation; the revocation stays pending until the version handed out is no longer AWSCURRENT, and is then
// done. One rotation covers every grant of that version; a failed rotation is retried by the sweep and
// counted in its errors; a grant issued while a rotation runs is served and tracked.
import { describe, expect, it } from "vitest";
import { grantView } from "../../lib/core/grant.ts";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { changeSignals } from "../../lib/core/signals.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { DATADOG, LEGACY, useSecretRig } from "./support.ts";

const rig = useSecretRig();

/** Past the provider's wait before it looks at a rotation again. */
const POLL_MS = 31_000;

async function issued(task = "datadog-key"): Promise<{ grantId: string; versionId: string; value: string }> {
  const res = await rig.issue(task);
  expect(res.status).toBe(200);
  return {
    grantId: res.body["grant_id"] as string,
    versionId: (res.body["secret"] as { versionId: string }).versionId,
    value: res.body["access_token"] as string,
  };
}

const release = async (grantId: string) =>
  rig.broker.call("revoke", { token: grantId, subject_token: await rig.token() });

/** Lets the rotation finish, then lets the sweep see it. */
async function rotationCompletes() {
  expect(rig.sm.finishRotations()).toBeGreaterThan(0);
  rig.clock.advance(POLL_MS);
  return sweepDue(rig.broker.deps);
}

async function expectPendingOnRotation(grantId: string, versionId: string) {
  const g = await rig.grant(grantId);
  expect(g.revocationPending).toBe(true);
  expect(g.revocationAwaiting).toBeDefined();
  expect(rig.sm.current(DATADOG)).toBe(versionId);
  expect(rig.sm.entries.get(DATADOG)!.versions.get(versionId)!.stages).toContain("AWSCURRENT");
}

async function expectDone(grantId: string, versionId: string) {
  const g = await rig.grant(grantId);
  expect(g.revocationPending).toBeFalsy();
  expect(g.revocationAwaiting).toBeUndefined();
  expect(rig.sm.current(DATADOG)).not.toBe(versionId);
}

describe("ending a rotateAfterUse grant rotates the secret", () => {
  const ways: [string, (grantId: string) => Promise<unknown>][] = [
    ["self-release", (id) => release(id)],
    [
      "an admin revoke",
      async (id) =>
        revokeGrant(rig.broker.deps, await rig.grant(id), {
          reason: "incident",
          kind: "revoke",
          actor: "ops",
        }),
    ],
    [
      "signals set",
      async () => {
        await changeSignals(rig.broker.deps, { workload: "web-ci", set: { quarantined: "true" } });
        await changeSignals(rig.broker.deps, { workload: "web-ci", clear: ["quarantined"] });
      },
    ],
    [
      "the sweep's re-decision",
      async () => {
        await rig.broker.store.setSignals("web-ci", { quarantined: "true" }, rig.clock.now());
        await rig.broker.store.markReevaluation("web-ci", rig.clock.now());
        await sweepDue(rig.broker.deps);
        await rig.broker.store.clearSignals("web-ci", ["quarantined"], rig.clock.now());
      },
    ],
    [
      "expiry",
      async () => {
        rig.clock.advance(901_000);
        await sweepDue(rig.broker.deps);
      },
    ],
  ];

  it.each(ways)("%s: the version stops being current, then the revocation is done", async (_, end) => {
    const { grantId, versionId } = await issued();
    const before = rig.sm.rotationsStarted(DATADOG);
    await end(grantId);
    expect((await rig.grant(grantId)).status).toMatch(/^(revoked|expired)$/);
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before + 1);
    await expectPendingOnRotation(grantId, versionId);
    // Waiting on a rotation that runs is neither done nor an error.
    rig.clock.advance(POLL_MS);
    const waiting = await sweepDue(rig.broker.deps);
    expect(waiting.errors).toBe(0);
    await expectPendingOnRotation(grantId, versionId);
    const done = await rotationCompletes();
    expect(done.errors).toBe(0);
    await expectDone(grantId, versionId);
    const rotate = rig.sm.calls.filter((c) => c.target === "secretsmanager.RotateSecret").at(-1)!;
    expect(rotate.body["SecretId"]).toBe(DATADOG);
  });

  it("two grants ending together cause one rotation, which ends both", async () => {
    const a = await issued();
    const b = await issued();
    expect(b.versionId).toBe(a.versionId);
    const before = rig.sm.rotationsStarted(DATADOG);
    await Promise.all([release(a.grantId), release(b.grantId)]);
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before + 1);
    await expectPendingOnRotation(a.grantId, a.versionId);
    await expectPendingOnRotation(b.grantId, b.versionId);
    await rotationCompletes();
    await expectDone(a.grantId, a.versionId);
    await expectDone(b.grantId, b.versionId);
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before + 1);
  });

  it("a grant issued during a rotation is served what is current, tracked, and ended by that rotation", async () => {
    const a = await issued();
    await release(a.grantId);
    const during = await issued();
    expect(during.versionId).toBe(a.versionId);
    expect((await rig.grant(during.grantId)).versionId).toBe(a.versionId);
    await rotationCompletes();
    await expectDone(a.grantId, a.versionId);
    // Its version is no longer current: ending it needs no second rotation.
    const before = rig.sm.rotationsStarted(DATADOG);
    await release(during.grantId);
    expect((await rig.grant(during.grantId)).revocationPending).toBeFalsy();
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before);
    // A grant of the new version gets a rotation of its own.
    const after = await issued();
    expect(after.versionId).not.toBe(a.versionId);
    expect(after.value).not.toBe(a.value);
    await release(after.grantId);
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before + 1);
    await rotationCompletes();
    await expectDone(after.grantId, after.versionId);
  });

  it("a rotation that fails stays pending, counts in the sweep's errors, and is retried until it succeeds", async () => {
    const { grantId, versionId } = await issued();
    rig.sm.failRotations(2);
    await release(grantId);
    let g = await rig.grant(grantId);
    expect(g).toMatchObject({ status: "revoked", revocationPending: true });
    expect(g.revocationAwaiting).toBeUndefined();
    const failed = await sweepDue(rig.broker.deps);
    expect(failed.errors).toBeGreaterThanOrEqual(1);
    expect(rig.sm.current(DATADOG)).toBe(versionId);
    const retried = await sweepDue(rig.broker.deps);
    expect(retried.errors).toBe(0);
    g = await rig.grant(grantId);
    expect(g.revocationAwaiting).toBeDefined();
    await rotationCompletes();
    await expectDone(grantId, versionId);
  });

  it("a rotation that never moves AWSCURRENT is started again once its claim goes stale", async () => {
    const { grantId, versionId } = await issued();
    await release(grantId);
    const before = rig.sm.rotationsStarted(DATADOG);
    // The rotation function died without promoting its version: AWS drops the pending one on retry.
    for (const v of rig.sm.entries.get(DATADOG)!.versions.values())
      v.stages = v.stages.filter((s) => s !== "AWSPENDING");
    rig.clock.advance(16 * 60_000);
    await sweepDue(rig.broker.deps);
    expect(rig.sm.rotationsStarted(DATADOG)).toBe(before + 1);
    await rotationCompletes();
    await expectDone(grantId, versionId);
  });

  it("a rotation Secrets Manager moves on by itself after a delay ends the grant at the next sweep", async () => {
    rig.sm.rotationDelay(20);
    const { grantId, versionId } = await issued();
    await release(grantId);
    while (rig.sm.current(DATADOG) === versionId) await new Promise((r) => setTimeout(r, 10));
    rig.clock.advance(POLL_MS);
    await sweepDue(rig.broker.deps);
    await expectDone(grantId, versionId);
  });

  it("without rotateAfterUse, ending a grant is bookkeeping only", async () => {
    const res = await rig.issue("legacy-password");
    const grantId = res.body["grant_id"] as string;
    const before = rig.sm.calls.filter((c) => c.target === "secretsmanager.RotateSecret").length;
    await release(grantId);
    const g = await rig.grant(grantId);
    expect(g.status).toBe("revoked");
    expect(g.revocationPending).toBeFalsy();
    expect(rig.sm.calls.filter((c) => c.target === "secretsmanager.RotateSecret").length).toBe(before);
    expect(rig.sm.current(LEGACY)).toBe(g.versionId);
  });

  it("a secret deleted since counts as rotated: its version can no longer be current", async () => {
    const { grantId } = await issued();
    rig.sm.entries.delete(DATADOG);
    await release(grantId);
    const g = await rig.grant(grantId);
    expect(g.status).toBe("revoked");
    expect(g.revocationPending).toBeFalsy();
  });

  it("a describe that fails otherwise leaves the revocation pending, counted, and retried", async () => {
    const { grantId, versionId } = await issued();
    rig.sm.throttle(50, "DescribeSecret");
    await release(grantId);
    expect((await rig.grant(grantId)).revocationPending).toBe(true);
    const failing = await sweepDue(rig.broker.deps);
    expect(failing.errors).toBeGreaterThanOrEqual(1);
    rig.sm.throttle(0);
    await sweepDue(rig.broker.deps);
    await rotationCompletes();
    await expectDone(grantId, versionId);
  });

  it("grants show names the secret and the version handed out", async () => {
    const { grantId, versionId } = await issued();
    expect(grantView(await rig.grant(grantId))).toMatchObject({
      provider: "secret",
      secretArn: DATADOG,
      versionId,
      rotateAfterUse: true,
    });
  });
});
