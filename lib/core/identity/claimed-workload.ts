// The workload a subject token claims to be, read from its payload before the signature is checked. A hint
// for starting I/O early (the token path's signals read) and nothing more: no decision is made on it, and a
// verified token that maps to another workload is read for again.
import { decodeJwt } from "jose";
import type { IssuerConfig } from "../../config/schema.ts";
import type { WorkloadMatcher } from "./workloads.ts";

export function claimedWorkload(
  issuers: readonly IssuerConfig[],
  workloads: WorkloadMatcher,
  token: string,
): string | undefined {
  let claims: { iss?: unknown; sub?: unknown };
  try {
    claims = decodeJwt(token);
  } catch {
    return undefined; // the verifier says what is wrong with it
  }
  if (typeof claims.iss !== "string" || typeof claims.sub !== "string") return undefined;
  const issuer = issuers.find((i) => i.issuer === claims.iss);
  return issuer ? workloads.match(issuer.name, claims.sub)?.name : undefined;
}
