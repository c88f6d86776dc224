import type { IssuerConfig } from "../../config/schema.ts";

export interface VerifiedSubject {
  issuer: IssuerConfig;
  subject: string;
  claims: Record<string, unknown>;
}

/** Verifies a workload's subject token against the configured issuers; throws a BrokerError on any doubt. */
export interface SubjectTokenVerifier {
  verify(token: string): Promise<VerifiedSubject>;
}
