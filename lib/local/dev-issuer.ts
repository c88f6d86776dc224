// The dev OIDC issuer of CONTRACT §4 (dev only): discovery, JWKS and a token endpoint that mints workload
// tokens, so the whole flow runs on one machine. Never part of a Lambda bundle.
import type { KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from "jose";

export interface DevIssuer {
  issuer: string;
  discovery(): Record<string, unknown>;
  jwks(): Promise<{ keys: JWK[] }>;
  mint(input: {
    sub: string;
    claims?: Record<string, unknown>;
    audience: string;
    lifetimeSeconds?: number;
    nowMs: number;
  }): Promise<string>;
}

export async function createDevIssuer(issuer: string, privateKey: KeyObject): Promise<DevIssuer> {
  const publicJwk = await exportJWK((await import("node:crypto")).createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    issuer,
    discovery: () => ({
      issuer,
      jwks_uri: `${issuer}/jwks.json`,
      token_endpoint: `${issuer}/token`,
      id_token_signing_alg_values_supported: ["ES256"],
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
    }),
    jwks: async () => ({ keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] }),
    async mint({ sub, claims = {}, audience, lifetimeSeconds = 600, nowMs }) {
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT({ aud: audience, iat, exp: iat + lifetimeSeconds, ...claims, iss: issuer, sub })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", kid })
        .sign(privateKey);
    },
  };
}
