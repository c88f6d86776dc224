// RFC 7662 introspection of broker-issued JWTs: active only while the signature verifies and the grant
// behind the jti is active and unexpired.
import type { BrokerDeps } from "./deps.ts";
import { DependencyUnavailable } from "./errors.ts";
import type { Params } from "./params.ts";
import { required } from "./token-request.ts";

export type IntrospectionResponse = { active: false } | ({ active: true } & Record<string, unknown>);

export async function introspectToken(deps: BrokerDeps, params: Params): Promise<IntrospectionResponse> {
  const token = required(params, "token");
  const now = deps.clock.now();
  const claims = await deps.accessTokens.verify(token, now);
  if (!claims) return { active: false };
  let grant: Awaited<ReturnType<BrokerDeps["store"]["getGrant"]>>;
  try {
    grant = await deps.store.getGrant(claims.jti);
  } catch (err) {
    throw new DependencyUnavailable("grant store", (err as Error).name);
  }
  if (grant?.status !== "active" || Date.parse(grant.expiresAt) <= now) return { active: false };
  return {
    active: true,
    sub: claims.sub,
    aud: claims.aud,
    scope: claims.scope,
    exp: claims.exp,
    iat: claims.iat,
    iss: claims.iss,
    jti: claims.jti,
    client_id: claims.client_id,
    token_type: "Bearer",
  };
}
