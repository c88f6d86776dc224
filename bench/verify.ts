// Figure 4: one subject-token verification with the issuer's keys already in hand (inline JWKS, so no
// fetch): header checks, signature, and every claim check the broker asks jose for.
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { systemClock } from "../lib/core/clock.ts";
import { createJoseVerifier } from "../lib/identity/jose-verifier.ts";
import { createTestIssuer } from "../test/support/issuer.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { type CallCost, microsPerAsyncCall, pairedMicros, round } from "./stats.ts";

export interface VerifyFigures {
  /** RS256, what GitHub Actions, GitLab and Kubernetes sign with. */
  verifyMicros: number;
  /** ES256, what the dev issuer signs with. */
  verifyMicrosEs256: number;
  /** 10th percentiles of the same batches. */
  verifyMicrosP10: number;
  verifyMicrosEs256P10: number;
  /**
   * CONTRACT §12: the verifier over a bare `jose.jwtVerify` with the same key set and options, RS256,
   * measured side by side in one process (and the ES256 one beside it).
   */
  verifyOverheadRatio: number;
  verifyOverheadRatioEs256: number;
  verifyBareMicros: number;
  verifyPairedMicros: number;
}

async function verifyCost(
  alg: "RS256" | "ES256",
  minMs: number,
): Promise<CallCost & { ratio: number; bare: number; paired: number }> {
  const issuer = await createTestIssuer(`https://issuer-${alg.toLowerCase()}.bench`, alg);
  const verifier = createJoseVerifier({
    issuers: [
      {
        name: "bench",
        issuer: issuer.issuer,
        jwks: issuer.jwks,
        algorithms: [alg],
        maxTokenAgeSeconds: 900,
        clockToleranceSeconds: 30,
      },
    ] as Parameters<typeof createJoseVerifier>[0]["issuers"],
    audience: "credbroker",
    clock: systemClock,
  });
  const token = await issuer.mint(GITHUB_LIKE_CLAIMS);
  await verifier.verify(token);
  const cost = await microsPerAsyncCall(() => verifier.verify(token), { minMs });
  // The floor: jose alone, with the key set and the options the verifier passes it.
  const keys = createLocalJWKSet(issuer.jwks as JSONWebKeySet);
  const bare = () =>
    jwtVerify(token, keys, {
      issuer: issuer.issuer,
      audience: "credbroker",
      algorithms: [alg],
      maxTokenAge: 900,
      clockTolerance: 30,
      currentDate: new Date(systemClock.now()),
      requiredClaims: ["sub", "aud", "exp", "iat"],
    });
  await bare();
  const paired = await pairedMicros(() => verifier.verify(token), bare, { minMs });
  return {
    ...cost,
    ratio: paired.a.median / paired.b.median,
    bare: paired.b.median,
    paired: paired.a.median,
  };
}

export async function benchVerify(options: { minMs?: number } = {}): Promise<VerifyFigures> {
  const minMs = options.minMs ?? 2_000;
  const rs = await verifyCost("RS256", minMs);
  const es = await verifyCost("ES256", minMs);
  return {
    verifyOverheadRatio: round(rs.ratio, 3),
    verifyOverheadRatioEs256: round(es.ratio, 3),
    verifyBareMicros: round(rs.bare, 1),
    verifyPairedMicros: round(rs.paired, 1),
    verifyMicros: round(rs.median, 1),
    verifyMicrosEs256: round(es.median, 1),
    verifyMicrosP10: round(rs.p10, 1),
    verifyMicrosEs256P10: round(es.p10, 1),
  };
}
