// The jwt provider: an RFC 9068 access token whose jti is the grant id; revocation is the grant status,
// which introspection reads.
import type { JwtTaskConfig } from "../../config/schema.ts";
import { signAccessToken } from "../jwt/access-token.ts";
import type { Signer } from "../signer.ts";
import { type CredentialProvider, ISSUED_TOKEN_TYPES, type PreparedCredential } from "./provider.ts";

interface JwtRequest {
  audience: string;
  scope: string;
}

export function createJwtProvider(signer: Signer, issuerUrl: string): CredentialProvider {
  return {
    prepare({ task, durationSeconds }): PreparedCredential {
      const t = task as JwtTaskConfig;
      const request: JwtRequest = { audience: t.audience, scope: t.scopes.join(" ") };
      return { provider: "jwt", durationSeconds, request };
    },
    async issue(prepared, grant) {
      const { audience, scope } = prepared.request as JwtRequest;
      const iat = Math.floor(Date.parse(grant.issuedAt) / 1000);
      const exp = Math.floor(Date.parse(grant.expiresAt) / 1000);
      const token = await signAccessToken(signer, {
        iss: issuerUrl,
        sub: grant.workload,
        aud: audience,
        scope,
        client_id: grant.workload,
        iat,
        exp,
        jti: grant.grantId,
        task: grant.task,
      });
      return {
        accessToken: token,
        issuedTokenType: ISSUED_TOKEN_TYPES.jwt,
        tokenType: "Bearer",
        expiresAtMs: exp * 1000,
      };
    },
    async revoke() {
      return undefined;
    },
  };
}
