// The workload a subject token claims to be, read from its payload before the signature is checked. A hint
// for starting I/O early (the token path's signals read) and nothing more: no decision is made on it, and a
// verified token that maps to another workload is read for again.
import type { IssuerConfig } from "../../config/schema.ts";
import type { WorkloadMatcher } from "./workloads.ts";

export function claimedWorkload(
  issuers: readonly IssuerConfig[],
  workloads: WorkloadMatcher,
  token: string,
): string | undefined {
  const start = token.indexOf(".");
  const end = token.indexOf(".", start + 1);
  if (start < 0 || end < 0) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(token.slice(start + 1, end), "base64url").toString("utf8")) as {
      iss?: unknown;
      sub?: unknown;
    };
    if (typeof claims.iss !== "string" || typeof claims.sub !== "string") return undefined;
    const issuer = issuers.find((i) => i.issuer === claims.iss);
    return issuer ? workloads.match(issuer.name, claims.sub)?.name : undefined;
  } catch {
    return undefined;
  }
}
