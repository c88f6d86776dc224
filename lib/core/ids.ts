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

/** The issue time encoded in an id by `newId` (its first ten characters); undefined for anything else. */
export function idTimeMs(id: string): number | undefined {
  if (id.length < 10) return undefined;
  let t = 0;
  for (const ch of id.slice(0, 10)) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) return undefined;
    t = t * 32 + v;
  }
  return t;
}

export const GRANT_ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/;

export function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}
