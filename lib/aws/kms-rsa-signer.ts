// A GitHub App's key imported into KMS (RSA_2048, SIGN_VERIFY): the App JWT is signed by KMS Sign with
// RSASSA_PKCS1_V1_5_SHA_256, so the broker never holds the private key.
import { type KMSClient, SignCommand } from "@aws-sdk/client-kms";
import type { RsaSigner } from "../github/app-jwt.ts";

export function kmsRsaSigner(kms: KMSClient, keyArn: string): RsaSigner {
  return {
    async sign(data) {
      const out = await kms.send(
        new SignCommand({
          KeyId: keyArn,
          Message: data,
          MessageType: "RAW",
          SigningAlgorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        }),
      );
      if (!out.Signature) throw new Error("KMS returned no signature");
      return out.Signature;
    },
  };
}
