// Figure 4: one subject-token verification with the issuer's keys already in hand (inline JWKS, so no
// fetch): header checks, signature, and every claim check the broker asks jose for.
import { systemClock } from "../lib/core/clock.ts";
import { createJoseVerifier } from "../lib/identity/jose-verifier.ts";
import { createTestIssuer } from "../test/support/issuer.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { type CallCost, microsPerAsyncCall, round } from "./stats.ts";

export interface VerifyFigures {
  /** RS256, what GitHub Actions, GitLab and Kubernetes sign with. */
  verifyMicros: number;
  /** ES256, what the dev issuer signs with. */
  verifyMicrosEs256: number;
  /** 10th percentiles of the same batches. */
  verifyMicrosP10: number;
  verifyMicrosEs256P10: number;
}

async function verifyCost(alg: "RS256" | "ES256", minMs: number): Promise<CallCost> {
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
  return microsPerAsyncCall(() => verifier.verify(token), { minMs });
}

export async function benchVerify(options: { minMs?: number } = {}): Promise<VerifyFigures> {
  const minMs = options.minMs ?? 2_000;
  const rs = await verifyCost("RS256", minMs);
  const es = await verifyCost("ES256", minMs);
  return {
    verifyMicros: round(rs.median, 1),
    verifyMicrosEs256: round(es.median, 1),
    verifyMicrosP10: round(rs.p10, 1),
    verifyMicrosEs256P10: round(es.p10, 1),
  };
}
