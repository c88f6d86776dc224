// The SCRAM-SHA-256 verifier PostgreSQL stores for a password (RFC 5802 §3, RFC 7677), computed by the
// broker so that CREATE ROLE carries only the verifier: the plaintext never reaches the server, its
// statement log or pg_stat_statements.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";

/** PostgreSQL's default (scram_iterations); the RFC's minimum for SHA-256. */
export const SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;

/**
 * `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. The password must be ASCII
 * without control characters (the broker's own are base64url), for which SASLprep changes nothing.
 */
export function scramSha256Verifier(
  password: string,
  salt: Buffer = randomBytes(SALT_BYTES),
  iterations = SCRAM_ITERATIONS,
): string {
  if (!/^[\x21-\x7e]+$/.test(password)) throw new TypeError("password must be printable ASCII");
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** A fresh password: 32 random bytes, base64url (43 characters, safe in URLs, libpq and shells). */
export const newPassword = (): string => randomBytes(32).toString("base64url");
