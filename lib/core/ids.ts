import { createHash, randomBytes } from "node:crypto";

// Crockford base32: ids sort by time, read aloud well and fit RoleSessionName's [\w+=,.@-] pattern.
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A 26-character, time-ordered, random id (ULID layout, lower case). */
export function newId(nowMs: number): string {
  let time = "";
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  const bytes = randomBytes(16);
  let rand = "";
  for (let i = 0; i < 16; i++) rand += ALPHABET[bytes[i]! % 32];
  return time + rand;
}

export const GRANT_ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/;

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
