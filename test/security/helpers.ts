// Shared assertions of the security suite: a refused request left nothing behind — no credential in the
// response, no grant that is issuing or active, and an audit event naming the refusal.
import type { CryptoKey } from "jose";
import { expect } from "vitest";
import type { Grant } from "../../lib/core/grant.ts";
import type { GrantStore } from "../../lib/core/store.ts";

export async function allGrants(store: GrantStore): Promise<Grant[]> {
  const grants: Grant[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listGrants(cursor ? { cursor } : {});
    grants.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return grants;
}

/** The response carries no credential of any kind. */
export function expectNoCredential(body: Record<string, unknown>): void {
  expect(body).not.toHaveProperty("access_token");
  expect(body).not.toHaveProperty("credentials");
  expect(body).not.toHaveProperty("grant_id");
}

/** No grant of the store is live (issuing or active). */
export async function expectNoLiveGrant(store: GrantStore): Promise<void> {
  const live = (await allGrants(store)).filter((g) => g.status === "issuing" || g.status === "active");
  expect(live).toEqual([]);
}

/** A JWT assembled by hand, for headers and signatures no honest library would produce. */
export function rawJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature = "c2ln",
): string {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${b64(header)}.${b64(payload)}.${signature}`;
}

/** Signs any header with an ES256 key, bypassing the checks jose makes when it signs (crit, b64). */
export async function signRawEs256(
  key: CryptoKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = await crypto.subtle.sign(
    { name: "ECDSA", hash: "SHA-256" },
    key,
    new TextEncoder().encode(input),
  );
  return `${input}.${Buffer.from(sig).toString("base64url")}`;
}
