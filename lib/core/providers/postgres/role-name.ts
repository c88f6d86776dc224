// Per-grant role names. Grant ids are 26 lower-case Crockford base32 characters (ids.ts), so `cb_<id>` is
// 29 characters: under PostgreSQL's 63-byte identifier limit, and a valid identifier even unquoted.
import { GRANT_ID_PATTERN } from "../../ids.ts";

export const ROLE_PREFIX = "cb_";

export function roleNameFor(grantId: string): string {
  if (!GRANT_ID_PATTERN.test(grantId)) throw new TypeError("not a grant id");
  return `${ROLE_PREFIX}${grantId}`;
}

/** The grant id a broker role was made for; undefined for any other role (even one named cb_…). */
export function grantIdOfRole(role: string): string | undefined {
  if (!role.startsWith(ROLE_PREFIX)) return undefined;
  const id = role.slice(ROLE_PREFIX.length);
  return GRANT_ID_PATTERN.test(id) ? id : undefined;
}
