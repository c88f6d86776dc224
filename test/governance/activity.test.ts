// Grant activity counts each revocation once, even when IAM needed the size fallback for it.
import { describe, expect, it } from "vitest";
import { grantEvent } from "../../lib/core/audit.ts";
import { activitySection } from "../../lib/core/report/activity.ts";
import { FALLBACK_REASON } from "../../lib/core/revoke-grant.ts";
import { activeGrant } from "../lifecycle/support.ts";
import { NOW } from "../support/broker.ts";

describe("grant activity", () => {
  it("does not count the fallback record as a second revocation", () => {
    const grant = activeGrant({ provider: "aws-sts", task: "deploy-web" });
    const activity = activitySection([
      grantEvent(grant, NOW, { kind: "admin", outcome: "revoke", reasons: ["incident 42"] }),
      grantEvent(grant, NOW + 10, {
        kind: "revoke",
        outcome: "revoke",
        reasons: [FALLBACK_REASON],
        revocationMode: "token-issue-time",
      }),
    ]);
    expect(activity.revoked.total).toBe(1);
    expect(activity.revoked.byReason).toEqual([{ reason: "incident 42", count: 1 }]);
    expect(activity.byTask[0]).toMatchObject({ task: "deploy-web", revoked: 1 });
  });
});
