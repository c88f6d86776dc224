// The AWS path of the github provider against the KMS fixture: the App JWT signed by KMS Sign
// (RSASSA_PKCS1_V1_5_SHA_256, the key never leaves KMS), the token sealed by KMS Encrypt under the grant's
// encryption context, and a process without kms:Decrypt leaving the token for one that has it.
import { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { kmsTokenVault } from "../../lib/aws/kms-token-vault.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { type KmsFixture, startKmsFixture } from "../fixtures/kms-server.ts";
import { closeSharedDynamo, NOW } from "../support/broker.ts";
import { createGithubRig, type GithubRig } from "./support.ts";

let kms: KmsFixture;
let rig: GithubRig;

beforeAll(async () => {
  kms = await startKmsFixture();
  const client = new KMSClient({
    endpoint: kms.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
  });
  rig = await createGithubRig({
    kms: { client, keyArn: kms.rsaKeyArn, publicKey: kms.rsaPublicKey },
    vault: kmsTokenVault(client, kms.encryptKeyArn),
  });
});
afterAll(async () => {
  await rig.github.close();
  await kms.close();
  await closeSharedDynamo();
});
beforeEach(() => {
  rig.clock.set(NOW);
  kms.denyDecrypt(false);
});

describe("github provider on KMS", () => {
  it("signs the App JWT with KMS Sign and seals the token with KMS Encrypt under the grant id", async () => {
    const before = kms.calls.length;
    const res = await rig.issue();
    expect(res.status).toBe(200);
    expect(await rig.github.tokenWorks(res.body["access_token"] as string)).toBe(true);
    const calls = kms.calls.slice(before);
    expect(calls.find((c) => c.target === "TrentService.Sign")?.body).toMatchObject({
      KeyId: kms.rsaKeyArn,
      SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
      MessageType: "RAW",
    });
    expect(calls.find((c) => c.target === "TrentService.Encrypt")?.body).toMatchObject({
      KeyId: kms.encryptKeyArn,
      EncryptionContext: { "credbroker-grant": res.body["grant_id"] },
    });
  });

  it("a ciphertext does not open under another grant's id", async () => {
    const res = await rig.issue();
    const grant = await rig.broker.store.getGrant(res.body["grant_id"] as string);
    await expect(rig.vault.open("someothergrant", grant!.tokenCiphertext!)).rejects.toThrow();
    await expect(rig.vault.open(grant!.grantId, grant!.tokenCiphertext!)).resolves.toContain(
      res.body["access_token"] as string,
    );
  });

  it("without kms:Decrypt the released grant stays pending; the sweep with it deletes the token", async () => {
    const res = await rig.issue();
    const token = res.body["access_token"] as string;
    kms.denyDecrypt(true);
    await rig.broker.call("revoke", {
      token: res.body["grant_id"] as string,
      subject_token: await rig.token(),
    });
    const grantId = res.body["grant_id"] as string;
    expect(await rig.broker.store.getGrant(grantId)).toMatchObject({
      status: "revoked",
      revocationPending: true,
    });
    expect(await rig.github.tokenWorks(token)).toBe(true);
    kms.denyDecrypt(false);
    await sweepDue(rig.broker.deps);
    expect(await rig.github.tokenWorks(token)).toBe(false);
    expect((await rig.broker.store.getGrant(grantId))!.tokenCiphertext).toBeUndefined();
  });

  it("answers 503 and asks GitHub nothing when KMS cannot sign", async () => {
    const posts = rig.github.calls.length;
    kms.failNext(1);
    const res = await rig.issue();
    expect(res.status).toBe(503);
    expect(rig.github.calls.length).toBe(posts);
  });
});
