// Keeps GitHub installation tokens as KMS ciphertext bound to their grant: the encryption context
// `credbroker-grant` = grant id must match to decrypt, and the key policy lets only the revoke and sweep
// functions decrypt (CONTRACT §8.1). The token function may only encrypt.
import { DecryptCommand, EncryptCommand, type KMSClient } from "@aws-sdk/client-kms";
import { GRANT_TAG } from "../core/providers/aws-sts/limits.ts";
import type { TokenVault } from "../core/providers/github/ports.ts";

export function kmsTokenVault(kms: KMSClient, keyArn: string): TokenVault {
  return {
    async seal(grantId, plaintext) {
      const out = await kms.send(
        new EncryptCommand({
          KeyId: keyArn,
          Plaintext: Buffer.from(plaintext, "utf8"),
          EncryptionContext: { [GRANT_TAG]: grantId },
        }),
      );
      if (!out.CiphertextBlob) throw new Error("KMS returned no ciphertext");
      return Buffer.from(out.CiphertextBlob).toString("base64");
    },
    async open(grantId, ciphertext) {
      const out = await kms.send(
        new DecryptCommand({
          KeyId: keyArn,
          CiphertextBlob: Buffer.from(ciphertext, "base64"),
          EncryptionContext: { [GRANT_TAG]: grantId },
        }),
      );
      if (!out.Plaintext) throw new Error("KMS returned no plaintext");
      return Buffer.from(out.Plaintext).toString("utf8");
    },
  };
}
