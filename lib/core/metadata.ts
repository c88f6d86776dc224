// RFC 8414 authorization server metadata and the broker's JWKS.
import type { JWK } from "jose";
import type { Signer } from "./signer.ts";
import { TOKEN_EXCHANGE } from "./token-request.ts";

export function serverMetadata(issuerUrl: string, audience: string): Record<string, unknown> {
  const base = issuerUrl.replace(/\/$/, "");
  return {
    issuer: issuerUrl,
    token_endpoint: `${base}/token`,
    revocation_endpoint: `${base}/revoke`,
    introspection_endpoint: `${base}/introspect`,
    jwks_uri: `${base}/.well-known/jwks.json`,
    grant_types_supported: [TOKEN_EXCHANGE],
    token_endpoint_auth_methods_supported: ["none"],
    revocation_endpoint_auth_methods_supported: ["none"],
    response_types_supported: [],
    scopes_supported: [],
    // Not in RFC 8414: the `aud` every subject token must carry, so clients (the GitHub Action,
    // `credential-process --github`) request their OIDC token for the right audience without configuration.
    credbroker_audience: audience,
  };
}

export async function publicJwks(signer: Signer): Promise<{ keys: JWK[] }> {
  const jwk = await signer.publicJwk();
  return {
    keys: [
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y, kid: signer.kid, alg: signer.alg, use: "sig" } as JWK,
    ],
  };
}
