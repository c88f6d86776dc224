// A test OIDC issuer: real keys, real JWTs, inline JWKS for the config.
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";

export interface TestIssuer {
  issuer: string;
  kid: string;
  alg: "ES256" | "RS256";
  privateKey: CryptoKey;
  publicJwk: JWK;
  jwks: { keys: JWK[] };
  mint(
    claims?: Record<string, unknown>,
    options?: { header?: Record<string, unknown>; nowMs?: number; lifetimeSeconds?: number },
  ): Promise<string>;
}

export async function createTestIssuer(
  issuer = "https://issuer.test",
  alg: "ES256" | "RS256" = "ES256",
  kid = `${alg}-key-1`,
): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return {
    issuer,
    kid,
    alg,
    privateKey,
    publicJwk,
    jwks: { keys: [publicJwk] },
    async mint(claims = {}, options = {}) {
      const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
      return new SignJWT({
        iss: issuer,
        aud: "credbroker",
        sub: "repo:acme/web:ref:refs/heads/main",
        iat,
        exp: iat + (options.lifetimeSeconds ?? 600),
        ...claims,
      })
        .setProtectedHeader({ alg, kid, typ: "JWT", ...options.header })
        .sign(privateKey);
    },
  };
}
