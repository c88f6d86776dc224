// Many grants on one database at once: every issue gets its own role, every revocation drops exactly its
// own, racing revokers agree, and no role is left that a grant does not account for.
import type pg from "pg";
import { describe, expect, it } from "vitest";
import { revokeGrant } from "../../lib/core/revoke-grant.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { postgresUnavailable } from "../support/postgres.ts";
import { usePgRig } from "./support.ts";

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)("postgres provider: concurrency", () => {
  const rig = usePgRig();

  it("issues 20 users at once and then ends them all at once, racing revokers included", async () => {
    const rolesBefore = await rig.roles();
    const issued = await Promise.all(Array.from({ length: 20 }, () => rig.issue("read-reports-db")));
    expect(issued.map((r) => r.status)).toEqual(Array(20).fill(200));
    const grantIds = issued.map((r) => r.body["grant_id"] as string);
    expect(new Set(grantIds).size).toBe(20);
    const created = (await rig.roles()).filter((r) => !rolesBefore.includes(r));
    expect(created.sort()).toEqual(grantIds.map((id) => `cb_${id}`).sort());

    // One live session per user, to be killed.
    const sessions: pg.Client[] = [];
    for (const r of issued.slice(0, 10)) sessions.push(await rig.login(r.body));

    // Half self-release, half admin revoke, and an admin revoke racing each self-release.
    const token = await rig.token();
    await Promise.all(
      grantIds.flatMap((grantId, i) => {
        const admin = async () => {
          const grant = await rig.broker.store.getGrant(grantId);
          await revokeGrant(rig.broker.deps, grant!, { reason: "load test", kind: "admin", actor: "test" });
        };
        const self = () =>
          rig.broker.call("revoke", {
            token: grantId,
            subject_token: token,
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
          });
        return i % 2 === 0 ? [self(), admin()] : [admin()];
      }),
    );
    // Whatever a racing revoker could not finish, the sweep does.
    await sweepDue(rig.broker.deps);

    for (const client of sessions) await expect(client.query("SELECT 1")).rejects.toThrow();
    expect(await rig.roles()).toEqual(rolesBefore);
    for (const grantId of grantIds) {
      const grant = await rig.broker.store.getGrant(grantId);
      expect(grant?.status).toBe("revoked");
      expect(grant?.revocationPending ?? false).toBe(false);
    }
    const left = await rig.cluster.sql(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename LIKE 'cb\\_%'",
    );
    expect(left).toEqual([{ n: 0 }]);
  });
});
