// RFC 9068 access tokens, signed through a Signer so the same code runs with a local key and with KMS.
import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import type { Signer } from "../signer.ts";

const b64u = (data: Uint8Array | string): string => Buffer.from(data).toString("base64url");

export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  scope: string;
  client_id: string;
  iat: number;
  exp: number;
  jti: string;
  [extra: string]: unknown;
}

export async function signAccessToken(signer: Signer, claims: AccessTokenClaims): Promise<string> {
  const header = { alg: signer.alg, typ: "at+jwt", kid: signer.kid };
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
  const signature = await signer.sign(new TextEncoder().encode(input));
  return `${input}.${b64u(signature)}`;
}

export interface AccessTokenVerifier {
  /** The verified claims, or undefined for anything that is not a valid token of this broker. */
  verify(token: string, nowMs: number): Promise<(JWTPayload & AccessTokenClaims) | undefined>;
}

export async function createAccessTokenVerifier(
  signer: Signer,
  issuerUrl: string,
): Promise<AccessTokenVerifier> {
  const keys = createLocalJWKSet({
    keys: [{ ...(await signer.publicJwk()), kid: signer.kid, alg: signer.alg, use: "sig" }],
  });
  return {
    async verify(token, nowMs) {
      if (token.length > 8192) return undefined;
      try {
        const { payload } = await jwtVerify(token, keys, {
          issuer: issuerUrl,
          algorithms: [signer.alg],
          typ: "at+jwt",
          currentDate: new Date(nowMs),
          requiredClaims: ["jti", "sub", "exp", "iat", "aud"],
        });
        return payload as JWTPayload & AccessTokenClaims;
      } catch {
        return undefined;
      }
    },
  };
}
