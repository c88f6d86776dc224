// The dev OIDC issuer of CONTRACT §4 (dev only): discovery, JWKS and a token endpoint that mints workload
// tokens, so the whole flow runs on one machine. Never part of a Lambda bundle.
import type { KeyObject } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, type JWK, SignJWT } from "jose";
import type { IssuerConfig } from "../config/schema.ts";

/** The port `credbroker dev` listens on unless told otherwise; the demo config names its dev issuer there. */
export const DEFAULT_DEV_PORT = 8787;
export const DEV_ISSUER_PATH = "/dev/issuer";
/** The dev approver issuer (CONTRACT §10): people's tokens, with keys of their own. */
export const DEV_APPROVER_ISSUER_PATH = "/dev/approvers";
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export interface DevIssuer {
  issuer: string;
  discovery(): Record<string, unknown>;
  jwks(): Promise<{ keys: JWK[] }>;
  mint(input: {
    sub: string;
    claims?: Record<string, unknown>;
    audience: string;
    lifetimeSeconds?: number;
    nowMs: number;
  }): Promise<string>;
}

export async function createDevIssuer(issuer: string, privateKey: KeyObject): Promise<DevIssuer> {
  const publicJwk = await exportJWK((await import("node:crypto")).createPublicKey(privateKey));
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    issuer,
    discovery: () => ({
      issuer,
      jwks_uri: `${issuer}/jwks.json`,
      token_endpoint: `${issuer}/token`,
      id_token_signing_alg_values_supported: ["ES256"],
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
    }),
    jwks: async () => ({ keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] }),
    async mint({ sub, claims = {}, audience, lifetimeSeconds = 600, nowMs }) {
      const iat = Math.floor(nowMs / 1000);
      return new SignJWT({ aud: audience, iat, exp: iat + lifetimeSeconds, ...claims, iss: issuer, sub })
        .setProtectedHeader({ alg: "ES256", typ: "JWT", kid })
        .sign(privateKey);
    },
  };
}

/**
 * A config written for the default port (the demo's `http://127.0.0.1:8787/dev/issuer`) names the dev
 * server's own issuer; on another port its tokens carry another `iss`. Such entries are pointed at the
 * issuer actually served, and so is a `jwksUri` on that default origin. Any other issuer is left alone.
 */
export function retargetDevIssuers(
  issuers: IssuerConfig[],
  devIssuerUrl: string,
  devApproverIssuerUrl?: string,
): IssuerConfig[] {
  return issuers.map((entry) => {
    const served = isDefaultDevIssuer(entry.issuer, DEV_ISSUER_PATH)
      ? devIssuerUrl
      : devApproverIssuerUrl && isDefaultDevIssuer(entry.issuer, DEV_APPROVER_ISSUER_PATH)
        ? devApproverIssuerUrl
        : undefined;
    if (!served) return entry;
    const actual = new URL(served);
    const retargeted: IssuerConfig = { ...entry, issuer: served };
    if (entry.jwksUri && onDefaultDevOrigin(entry.jwksUri)) {
      const jwks = new URL(entry.jwksUri);
      retargeted.jwksUri = `${actual.origin}${jwks.pathname}${jwks.search}`;
    }
    return retargeted;
  });
}

function isDefaultDevIssuer(url: string, path: string): boolean {
  return onDefaultDevOrigin(url) && new URL(url).pathname.replace(/\/$/, "") === path;
}

function onDefaultDevOrigin(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return (
    parsed.protocol === "http:" &&
    LOOPBACK.has(parsed.hostname) &&
    parsed.port === String(DEFAULT_DEV_PORT) &&
    parsed.username === "" &&
    parsed.password === ""
  );
}
