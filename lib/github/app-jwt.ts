// The GitHub App JWT (CONTRACT §8.1): RS256, iat = now − 60 s (GitHub's advice against clock drift),
// exp = iat + 600 s (GitHub's maximum), iss = the App ID or Client ID. The signature comes from an RsaSigner:
// KMS Sign in the cloud (the key never leaves KMS), the PEM file in dev and tests.
import { createPrivateKey, type KeyObject, sign } from "node:crypto";
import { readFile } from "node:fs/promises";

/** Signs bytes with RSASSA-PKCS1-v1_5 over SHA-256 (JWS RS256). */
export interface RsaSigner {
  sign(data: Uint8Array): Promise<Uint8Array>;
}

const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString("base64url");

export async function signAppJwt(signer: RsaSigner, appId: string, nowMs: number): Promise<string> {
  const iat = Math.floor(nowMs / 1000) - 60;
  const header = b64url(JSON.stringify({ alg: "RS256", typ: "JWT" }));
  const payload = b64url(JSON.stringify({ iat, exp: iat + 600, iss: appId }));
  const input = `${header}.${payload}`;
  const signature = await signer.sign(Buffer.from(input));
  return `${input}.${b64url(signature)}`;
}

/**
 * The App's PEM key as GitHub hands it out (PKCS#1) or as PKCS#8, read on first use and kept: `credbroker
 * dev` starts without it (a github task then answers 503), and picks it up once it is there.
 */
export function pemFileSigner(path: string): RsaSigner {
  let key: KeyObject | undefined;
  return {
    async sign(data) {
      key ??= createPrivateKey(await readFile(path, "utf8"));
      return sign("sha256", data, key);
    },
  };
}
