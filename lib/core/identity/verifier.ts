import type { IssuerConfig } from "../../config/schema.ts";

export interface VerifiedSubject {
  issuer: IssuerConfig;
  subject: string;
  claims: Record<string, unknown>;
}

/** Verifies a workload's subject token against the configured issuers; throws a BrokerError on any doubt. */
export interface SubjectTokenVerifier {
  verify(token: string): Promise<VerifiedSubject>;
  /**
   * Fetches what a first verification would wait for (each issuer's discovery document and key set), so a
   * cold start can have it in flight before the first request. Never rejects; a failure is left for the
   * first request to meet (and retry) as if no warm-up had happened.
   */
  warmUp?(): Promise<void>;
}
