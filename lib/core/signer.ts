import type { JWK } from "jose";

/** Signs broker tokens. A local key in dev, KMS on AWS: the private key never leaves the signer. */
export interface Signer {
  readonly alg: "ES256";
  readonly kid: string;
  /** Returns the JOSE (IEEE P1363, r||s) form of the signature over `data`. */
  sign(data: Uint8Array): Promise<Uint8Array>;
  publicJwk(): Promise<JWK>;
}
