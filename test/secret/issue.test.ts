// Issuing a secret (CONTRACT §15): the grant is recorded, then GetSecretValue (AWSCURRENT); the response
// carries the value once, with {name, versionId, env}; the grant keeps the ARN and version, never the
// value. Every unusable secret is a 503 with nothing handed out and an error log naming the task.
import { describe, expect, it } from "vitest";
import {
  BINARY,
  DATADOG,
  DATADOG_VALUE,
  LEGACY,
  LEGACY_VALUE,
  NO_ROTATION,
  useSecretRig,
} from "./support.ts";

const rig = useSecretRig();

const errorLogs = () => rig.logs.map((l) => JSON.parse(l)).filter((l) => l.level === "error");

describe("issuing a secret", () => {
  it("hands out one key of a JSON secret, with its name, version and variable", async () => {
    const res = await rig.issue("datadog-key");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      access_token: DATADOG_VALUE.api_key,
      issued_token_type: "urn:credbroker:token-type:secret",
      token_type: "N_A",
      scope: "datadog-key",
      expires_in: 900,
      secret: { name: "ci/datadog", versionId: rig.sm.current(DATADOG), env: "DD_API_KEY" },
    });
    const asked = rig.sm.calls.filter((c) => c.target === "secretsmanager.GetSecretValue").at(-1)!;
    expect(asked.body).toMatchObject({ SecretId: DATADOG, VersionStage: "AWSCURRENT" });
  });

  it("records the secret's ARN and version on the grant, never the value", async () => {
    const res = await rig.issue("datadog-key");
    const g = await rig.grant(res.body["grant_id"] as string);
    expect(g).toMatchObject({
      status: "active",
      provider: "secret",
      secretArn: DATADOG,
      versionId: rig.sm.current(DATADOG),
      rotateAfterUse: true,
    });
    expect(JSON.stringify(g)).not.toContain(DATADOG_VALUE.api_key);
  });

  it("hands out a whole JSON string when no jsonKey is named, with the default variable SECRET", async () => {
    const res = await rig.issue("datadog-whole");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body["access_token"] as string)).toEqual(DATADOG_VALUE);
    expect(res.body["secret"]).toMatchObject({ env: "SECRET" });
    expect(res.body["expires_in"]).toBe(600);
  });

  it("hands out a plain string secret", async () => {
    const res = await rig.issue("legacy-password");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      access_token: LEGACY_VALUE,
      secret: { name: "legacy/db-password", env: "LEGACY_PASSWORD" },
    });
    expect((await rig.grant(res.body["grant_id"] as string)).rotateAfterUse).toBeUndefined();
  });

  it("hands out a binary secret as base64, and says so", async () => {
    const res = await rig.issue("keystore");
    expect(res.status).toBe(200);
    expect(Buffer.from(res.body["access_token"] as string, "base64")).toEqual(
      Buffer.from([0, 1, 2, 250, 251, 252]),
    );
    expect(res.body["secret"]).toMatchObject({ encoding: "base64", env: "KEYSTORE_B64" });
  });

  it.each([
    ["a binary secret with jsonKey", "keystore-key", BINARY, "binary"],
    ["a JSON secret without the key", "datadog-app-key", DATADOG, "no key app_key"],
    ["a 70 KiB value", "big", undefined, "over the 65536-byte limit"],
  ])("refuses %s with 503, nothing handed out, an error log naming the task", async (_, task, arn, why) => {
    if (task === "datadog-app-key") rig.sm.define(DATADOG, { string: JSON.stringify({ api_key: "only" }) });
    const res = await rig.issue(task);
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
    expect(res.body["access_token"]).toBeUndefined();
    const logged = errorLogs().find((l) => l.task === task);
    expect(logged?.problem).toContain(why);
    if (arn) expect(logged?.secretArn).toBe(arn);
    const grants = await rig.broker.store.listGrantsByWorkload("web-ci");
    const mine = grants.items.filter((g) => g.task === task);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((g) => g.status === "failed")).toBe(true);
  });

  it("rides out a throttled GetSecretValue, and answers 503 when throttling lasts", async () => {
    rig.sm.throttle(1, "GetSecretValue");
    const once = await rig.issue("legacy-password");
    expect(once.status).toBe(200);
    expect(once.body["access_token"]).toBe(LEGACY_VALUE);
    rig.sm.throttle(50, "GetSecretValue");
    const lasting = await rig.issue("legacy-password");
    expect(lasting.status).toBe(503);
    expect(lasting.body["access_token"]).toBeUndefined();
    expect(errorLogs().some((l) => l.task === "legacy-password")).toBe(true);
    rig.sm.throttle(0);
  });

  it("refuses a rotateAfterUse task whose secret has no rotation, before any grant is recorded", async () => {
    const before = (await rig.broker.store.listGrantsByWorkload("web-ci")).items.length;
    const res = await rig.issue("unrotatable");
    expect(res.status).toBe(503);
    expect(res.body["access_token"]).toBeUndefined();
    expect(errorLogs()).toContainEqual(
      expect.objectContaining({ task: "unrotatable", secretArn: NO_ROTATION }),
    );
    expect((await rig.broker.store.listGrantsByWorkload("web-ci")).items.length).toBe(before);
    expect(
      rig.sm.calls.some((c) => c.target === "secretsmanager.GetSecretValue" && c.secretId === NO_ROTATION),
    ).toBe(false);
  });

  it("refuses a missing secret with 503", async () => {
    rig.sm.entries.delete(LEGACY);
    const res = await rig.issue("legacy-password");
    expect(res.status).toBe(503);
  });

  it("a credential_process caller asking for AWS credentials gets nothing from a secret task", async () => {
    const res = await rig.issue("legacy-password", {
      requested_token_type: "urn:credbroker:token-type:aws-credentials",
    });
    expect(res.status).toBe(400);
    expect(res.body["access_token"]).toBeUndefined();
  });

  it("never writes the value to a log line", async () => {
    await rig.issue("datadog-key");
    await rig.issue("legacy-password");
    const logs = rig.logs.join("\n");
    expect(logs).not.toContain(DATADOG_VALUE.api_key);
    expect(logs).not.toContain(LEGACY_VALUE);
  });
});
