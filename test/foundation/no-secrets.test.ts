// No raw subject token, issued token or key material in any log line or DynamoDB item.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { exportJWK, type JWK } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import { sweepDue } from "../../lib/core/sweep.ts";
import { createLocalSigner, generateSigningKey } from "../../lib/local/local-signer.ts";
import { createSecretRig } from "../secret/support.ts";
import { closeSharedDynamo, createTestBroker, NOW, sharedDynamo } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";

afterAll(closeSharedDynamo);

describe("secrets stay out of logs and the table", () => {
  it("stores and logs only hashes and ids", async () => {
    // The private keys are made here, so their secret scalars can be searched for below.
    const issuer = await createTestIssuer();
    const signingKey = generateSigningKey();
    const broker = await createTestBroker({
      issuer,
      adapters: { signer: await createLocalSigner(signingKey) },
    });
    const privateScalars = [
      (await exportJWK(issuer.privateKey)).d!,
      (signingKey.export({ format: "jwk" }) as JWK).d!,
    ];
    const subjects: string[] = [];
    const issued: string[] = [];
    for (const claims of [
      { repository: "acme/web" },
      { repository: "acme/other" },
      { sub: "repo:nobody:x" },
    ]) {
      const subject = await broker.issuer.mint(claims, { nowMs: NOW });
      subjects.push(subject);
      const res = await broker.exchange(subject, { purpose: "test" });
      if (res.body["access_token"]) issued.push(res.body["access_token"] as string);
    }
    await broker.call("introspect", { token: issued[0]! });
    await broker.call("revoke", { token: issued[0]!, subject_token: subjects[0]! });
    await broker.exchange("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.");
    expect(issued).toHaveLength(1);

    const { client } = await sharedDynamo();
    const items = JSON.stringify(
      (await client.send(new ScanCommand({ TableName: broker.store["table"] as string }))).Items,
    );
    const logs = broker.logs.join("\n");
    for (const secret of [...subjects, ...issued]) {
      // A JWT's signature part alone is enough to find a leak of the whole token or a fragment of it.
      const signature = secret.split(".")[2]!;
      expect(items).not.toContain(signature);
      expect(logs).not.toContain(signature);
    }
    expect(items).toContain("subjectTokenSha256");
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toMatch(/"d":"/);
    // Neither the broker's signing key nor the issuer's key appears, in any of the usual encodings.
    expect(privateScalars).toHaveLength(2);
    for (const d of privateScalars) {
      const bytes = Buffer.from(d, "base64url");
      expect(bytes.length).toBe(32);
      for (const encoded of [d, bytes.toString("base64"), bytes.toString("hex")]) {
        expect(items).not.toContain(encoded);
        expect(logs).not.toContain(encoded);
      }
    }
  });

  it("keeps a secret task's value out of logs, audit events and the table, through issue, rotation and sweep", async () => {
    const rig = await createSecretRig();
    try {
      const values: string[] = [];
      for (const task of [
        "datadog-key",
        "datadog-whole",
        "legacy-password",
        "keystore",
        "big",
        "datadog-app-key",
      ]) {
        const res = await rig.issue(task);
        if (typeof res.body["access_token"] === "string") values.push(res.body["access_token"]);
      }
      expect(values.length).toBeGreaterThanOrEqual(4);
      // The values a rotation writes, and what the refused tasks would have handed out.
      for (const e of rig.sm.entries.values())
        for (const v of e.versions.values()) if (v.string) values.push(v.string);
      await rig.broker.call("revoke", {
        token: (await rig.broker.store.listGrants()).items[0]!.grantId,
        subject_token: await rig.token(),
      });
      rig.clock.advance(901_000);
      await sweepDue(rig.broker.deps);
      rig.sm.finishRotations();
      rig.clock.advance(31_000);
      await sweepDue(rig.broker.deps);
      for (const e of rig.sm.entries.values())
        for (const v of e.versions.values()) if (v.string) values.push(v.string);
      const { client } = await sharedDynamo();
      const items = JSON.stringify(
        (await client.send(new ScanCommand({ TableName: rig.broker.store["table"] as string }))).Items,
      );
      const logs = rig.logs.join("\n");
      expect(items).toContain("versionId");
      for (const value of values) {
        // Each value, and each JSON string inside one, by a fragment long enough to be its own.
        const fragments = [value.slice(0, 24)];
        try {
          for (const v of Object.values(JSON.parse(value) as Record<string, unknown>))
            if (typeof v === "string") fragments.push(v.slice(0, 16));
        } catch {
          // a plain value
        }
        for (const f of fragments) {
          expect(items).not.toContain(f);
          expect(logs).not.toContain(f);
        }
      }
    } finally {
      await rig.sm.close();
    }
  });
});
