// Subject-token verification with jose. The issuer is chosen from the token's `iss` only among configured
// issuers, so a token can never make the broker fetch keys from an address it picked.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JWTVerifyGetKey,
  errors as joseErrors,
  jwtVerify,
  type RemoteJWKSet,
} from "jose";
import type { IssuerConfig } from "../config/schema.ts";
import type { Clock } from "../core/clock.ts";
import {
  AlgorithmNotAllowed,
  BrokerError,
  DependencyUnavailable,
  SubjectTokenExpired,
  SubjectTokenInvalid,
  SubjectTokenMalformed,
  SubjectTokenTooOld,
  UntrustedIssuer,
  WrongAudience,
} from "../core/errors.ts";
import type { SubjectTokenVerifier, VerifiedSubject } from "../core/identity/verifier.ts";
import { UNSAFE_TEXT } from "../core/text.ts";

export interface JoseVerifierOptions {
  issuers: IssuerConfig[];
  audience: string;
  clock: Clock;
  /** How long a fetched key set is trusted before it is fetched again (jose cacheMaxAge). */
  jwksCacheMaxAgeMs?: number;
  /** Minimum time between two fetches triggered by an unknown kid, and between two failed discoveries. */
  jwksCooldownMs?: number;
  /** Timeout of one JWKS or discovery fetch. */
  fetchTimeoutMs?: number;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const MAX_SUBJECT_TOKEN_LENGTH = 16 * 1024;
export function createJoseVerifier(options: JoseVerifierOptions): SubjectTokenVerifier {
  const byIssuer = new Map(options.issuers.map((i) => [i.issuer, i]));
  const keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  /** When each issuer whose discovery failed may be tried again (by the injected clock). */
  const discoveryRetryAt = new Map<string, number>();
  const timeoutDuration = options.fetchTimeoutMs ?? 3000;
  const cooldownMs = options.jwksCooldownMs ?? 30_000;

  const remote = (url: string) =>
    createRemoteJWKSet(new URL(url), {
      cacheMaxAge: options.jwksCacheMaxAgeMs ?? 10 * 60_000,
      cooldownDuration: cooldownMs,
      timeoutDuration,
    });

  async function discover(issuer: IssuerConfig): Promise<string> {
    const url = `${issuer.issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(timeoutDuration), redirect: "error" });
    } catch (err) {
      throw new DependencyUnavailable("issuer discovery", `${issuer.name}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new DependencyUnavailable("issuer discovery", `${issuer.name}: HTTP ${res.status}`);
    const doc = (await res.json().catch(() => ({}))) as { issuer?: unknown; jwks_uri?: unknown };
    if (doc.issuer !== issuer.issuer || typeof doc.jwks_uri !== "string")
      throw new DependencyUnavailable(
        "issuer discovery",
        `${issuer.name}: discovery document does not match the issuer`,
      );
    return doc.jwks_uri;
  }

  /** `coolDown`: whether a failed discovery holds the next ones off; a warm-up's failure does not. */
  function keySetFor(issuer: IssuerConfig, coolDown = true): Promise<JWTVerifyGetKey> {
    let keySet = keySets.get(issuer.name);
    if (!keySet) {
      if (issuer.jwks)
        keySet = Promise.resolve(createLocalJWKSet(issuer.jwks as Parameters<typeof createLocalJWKSet>[0]));
      else if (issuer.jwksUri) keySet = Promise.resolve(remote(issuer.jwksUri));
      else {
        // During an issuer outage every request would otherwise wait out its own discovery timeout: after a
        // failure, answer 503 at once until the cool-down has passed, then try again.
        const retryAt = discoveryRetryAt.get(issuer.name);
        if (retryAt !== undefined && options.clock.now() < retryAt)
          return Promise.reject(
            new DependencyUnavailable("issuer discovery", `${issuer.name}: cooling down after a failure`),
          );
        keySet = discover(issuer).then(remote);
        keySet.then(
          () => discoveryRetryAt.delete(issuer.name),
          () => {
            if (keySets.get(issuer.name) === keySet) keySets.delete(issuer.name);
            if (coolDown) discoveryRetryAt.set(issuer.name, options.clock.now() + cooldownMs);
          },
        );
      }
      keySets.set(issuer.name, keySet);
    }
    return keySet;
  }

  /** Issuers whose warm-up is in flight: a token for one waits for it to settle, then goes its own way. */
  const warming = new Map<string, Promise<void>>();

  return {
    async warmUp(): Promise<void> {
      await Promise.all(
        options.issuers.map((issuer) => {
          const settled = (async () => {
            try {
              const keySet = (await keySetFor(issuer, false)) as Partial<RemoteJWKSet>;
              // A remote set fetches on its first use.
              if (typeof keySet.reload === "function" && keySet.fresh === false) await keySet.reload();
            } catch {
              // Left for the first request, which then makes its own attempt and answers for it.
            }
          })().finally(() => warming.delete(issuer.name));
          warming.set(issuer.name, settled);
          return settled;
        }),
      );
    },

    async verify(token: string): Promise<VerifiedSubject> {
      if (token.length > MAX_SUBJECT_TOKEN_LENGTH || !COMPACT_JWS.test(token))
        throw new SubjectTokenMalformed();
      let iss: unknown;
      let alg: unknown;
      try {
        alg = decodeProtectedHeader(token).alg;
        iss = decodeJwt(token).iss;
      } catch {
        throw new SubjectTokenMalformed();
      }
      const issuer = typeof iss === "string" ? byIssuer.get(iss) : undefined;
      if (!issuer) throw new UntrustedIssuer();
      if (typeof alg !== "string" || !(issuer.algorithms as string[]).includes(alg))
        throw new AlgorithmNotAllowed();

      // A warm-up's fetch may have been cut short (a Lambda sandbox frozen after its init phase): wait for
      // it to settle rather than share its failure; a failed one left nothing behind, so this one tries anew.
      await warming.get(issuer.name);
      const keySet = await keySetFor(issuer);
      try {
        const { payload } = await jwtVerify(token, keySet, {
          issuer: issuer.issuer,
          audience: options.audience,
          algorithms: issuer.algorithms,
          maxTokenAge: issuer.maxTokenAgeSeconds,
          clockTolerance: issuer.clockToleranceSeconds,
          currentDate: new Date(options.clock.now()),
          requiredClaims: ["sub", "aud", "exp", "iat"],
        });
        if (typeof payload.sub !== "string" || payload.sub.length === 0 || payload.sub.length > 1024)
          throw new SubjectTokenInvalid("sub is not a non-empty string");
        if (UNSAFE_TEXT.test(payload.sub))
          throw new SubjectTokenInvalid("sub contains control or invisible characters");
        return { issuer, subject: payload.sub, claims: payload as Record<string, unknown> };
      } catch (err) {
        throw translate(err, issuer.name);
      }
    },
  };
}

function translate(err: unknown, issuerName: string): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof joseErrors.JWTExpired) {
    return err.claim === "iat" ? new SubjectTokenTooOld() : new SubjectTokenExpired(err.message);
  }
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === "missing") return new SubjectTokenInvalid(`missing ${err.claim}`);
    // A claim of the wrong type (iat: "now") is a malformed token, not a timing problem.
    if (err.reason === "invalid") return new SubjectTokenInvalid(`${err.claim} has the wrong type`);
    if (err.claim === "aud") return new WrongAudience();
    if (err.claim === "nbf" || err.claim === "iat") return new SubjectTokenExpired(err.message);
    if (err.claim === "iss") return new UntrustedIssuer();
    return new SubjectTokenInvalid(err.message);
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return new AlgorithmNotAllowed();
  if (err instanceof joseErrors.JWKSTimeout)
    return new DependencyUnavailable("issuer keys", `${issuerName}: JWKS timeout`);
  if (err instanceof joseErrors.JWKSInvalid)
    return new DependencyUnavailable("issuer keys", `${issuerName}: invalid JWKS`);
  if (
    err instanceof joseErrors.JWSSignatureVerificationFailed ||
    err instanceof joseErrors.JWKSNoMatchingKey ||
    err instanceof joseErrors.JWKSMultipleMatchingKeys ||
    err instanceof joseErrors.JOSENotSupported ||
    err instanceof joseErrors.JWSInvalid ||
    err instanceof joseErrors.JWTInvalid
  ) {
    return new SubjectTokenInvalid(`${(err as Error).name}`);
  }
  // jose reports a key-set HTTP failure (non-200, bad JSON) as a bare JOSEError: we could not check, so 503.
  if (err instanceof joseErrors.JOSEError && err.code === "ERR_JOSE_GENERIC")
    return new DependencyUnavailable("issuer keys", `${issuerName}: ${err.message}`);
  if (err instanceof joseErrors.JOSEError) return new SubjectTokenInvalid(err.name);
  // Anything else (network errors fetching keys, a TypeError from fetch) means we could not check: 503.
  return new DependencyUnavailable("issuer keys", `${issuerName}: ${(err as Error)?.message ?? String(err)}`);
}
