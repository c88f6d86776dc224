// Inline issuer keys (`issuers[].jwks`) are imported when the config loads, so a key that can verify nothing
// fails start-up, synth and `policy validate` with its path, instead of making every token request a 503.
// Node's JWK import is used because config loading is synchronous (CDK builds constructs synchronously); it
// makes the checks jose's import makes (coordinate lengths, point on the curve), which the tests confirm.
import { createPublicKey, type JsonWebKey } from "node:crypto";

/** Members only a private or symmetric key has: an issuer's key set must never carry them. */
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const EC_CURVES: Record<string, string> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const MIN_RSA_BITS = 2048; // jose refuses to verify with less

/** Why an inline JWK cannot verify subject tokens, or undefined when it can. Never quotes key material. */
export function inlineJwkProblem(jwk: Record<string, unknown>): string | undefined {
  const secret = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (secret.length > 0)
    return `is a private or symmetric key (has ${secret.join(", ")}): give only the public key`;
  const { kty, crv, alg } = jwk;
  if (kty !== "RSA" && kty !== "EC" && kty !== "OKP") return "kty must be RSA, EC or OKP";
  if (kty === "EC" && !(typeof crv === "string" && crv in EC_CURVES))
    return "crv of an EC key must be P-256, P-384 or P-521";
  if (kty === "OKP" && crv !== "Ed25519") return "crv of an OKP key must be Ed25519";
  if (alg !== undefined && !algFits(kty, crv, alg))
    return `alg ${typeof alg === "string" ? alg.slice(0, 16) : "(not a string)"} does not fit a ${kty} key${crv ? ` on ${String(crv)}` : ""}`;
  let bits: number | undefined;
  try {
    bits = createPublicKey({ key: jwk as JsonWebKey, format: "jwk" }).asymmetricKeyDetails?.modulusLength;
  } catch {
    return `is not a valid ${kty} public key`;
  }
  if (kty === "RSA" && (bits ?? 0) < MIN_RSA_BITS)
    return `RSA modulus is ${bits ?? 0} bits; at least ${MIN_RSA_BITS} are required`;
  return undefined;
}

function algFits(kty: string, crv: unknown, alg: unknown): boolean {
  if (kty === "RSA") return typeof alg === "string" && /^(RS|PS)(256|384|512)$/.test(alg);
  if (kty === "EC") return EC_CURVES[crv as string] === alg;
  return alg === "EdDSA";
}
