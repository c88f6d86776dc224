// A Signer backed by an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY): the private key never leaves KMS.
// KMS returns DER-encoded ECDSA signatures; JOSE wants the fixed-width r||s form (RFC 7518 §3.4).
import { createPublicKey } from "node:crypto";
import { GetPublicKeyCommand, type KMSClient, SignCommand } from "@aws-sdk/client-kms";
import { calculateJwkThumbprint, type JWK } from "jose";
import type { Signer } from "../core/signer.ts";

export function derToJose(der: Uint8Array, size = 32): Uint8Array {
  // SEQUENCE { INTEGER r, INTEGER s }
  let offset = 0;
  if (der[offset++] !== 0x30) throw new Error("not a DER sequence");
  let len = der[offset++]!;
  if (len & 0x80) offset += len & 0x7f;
  const readInt = (): Uint8Array => {
    if (der[offset++] !== 0x02) throw new Error("not a DER integer");
    len = der[offset++]!;
    let int = der.subarray(offset, offset + len);
    offset += len;
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    if (int.length > size) throw new Error("integer too long");
    const out = new Uint8Array(size);
    out.set(int, size - int.length);
    return out;
  };
  const r = readInt();
  const s = readInt();
  const sig = new Uint8Array(size * 2);
  sig.set(r, 0);
  sig.set(s, size);
  return sig;
}

export async function createKmsSigner(kms: KMSClient, keyId: string): Promise<Signer> {
  const out = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
  if (!out.PublicKey) throw new Error("KMS returned no public key");
  if (out.KeySpec && out.KeySpec !== "ECC_NIST_P256")
    throw new Error(`KMS key spec ${out.KeySpec} is not ECC_NIST_P256`);
  const jwk = createPublicKey({ key: Buffer.from(out.PublicKey), format: "der", type: "spki" }).export({
    format: "jwk",
  }) as JWK;
  const kid = await calculateJwkThumbprint(jwk);
  return {
    alg: "ES256",
    kid,
    async sign(data) {
      const res = await kms.send(
        new SignCommand({
          KeyId: keyId,
          Message: data,
          MessageType: "RAW",
          SigningAlgorithm: "ECDSA_SHA_256",
        }),
      );
      if (!res.Signature) throw new Error("KMS returned no signature");
      return derToJose(res.Signature);
    },
    async publicJwk() {
      return { ...jwk };
    },
  };
}
