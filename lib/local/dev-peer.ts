// `credbroker dev --peer URL` (CONTRACT §16): a second dev broker on the first one's table, as a second
// region is on the same strongly consistent global table. The first serves what a peer needs at
// GET /dev/peer (dev only, never in the Lambda build): its table, the DynamoDB endpoint holding it, its
// data dir (whose keys the peer shares, as regions share the multi-Region key: one kid, one JWKS), and its
// URL and dev issuers, which the peer answers for too, so a token minted by either broker verifies on both
// and a broker-signed token introspects on both.
import type { IssuerConfig } from "../config/schema.ts";

export const DEV_PEER_PATH = "/dev/peer";

export interface DevPeer {
  /** The first broker's URL: the shared issuerUrl. */
  url: string;
  tableName: string;
  dynamoEndpoint: string;
  dataDir: string;
  /** The iss of its dev issuer and dev approver issuer. */
  issuer: string;
  approvers: string;
}

/** Reads a running dev broker's peer information; a clear error when it is not one. */
export async function fetchPeer(url: string): Promise<DevPeer> {
  const base = url.replace(/\/$/, "");
  let res: Response;
  try {
    res = await fetch(`${base}${DEV_PEER_PATH}`);
  } catch {
    throw new Error(`cannot reach the peer at ${base}: is credbroker dev running there?`);
  }
  const body = (await res.json().catch(() => ({}))) as Partial<DevPeer>;
  const fields = ["url", "tableName", "dynamoEndpoint", "dataDir", "issuer", "approvers"] as const;
  if (!res.ok || !fields.every((f) => typeof body[f] === "string"))
    throw new Error(`${base} does not answer ${DEV_PEER_PATH} as credbroker dev does`);
  return body as DevPeer;
}

/**
 * The issuers as a peer trusts them: the first broker's dev issuers (their `iss`), with keys read from the
 * peer's own copy of them, so the peer goes on verifying when the first broker is gone.
 */
export function peerIssuers(issuers: IssuerConfig[], peer: DevPeer, ownUrl: string): IssuerConfig[] {
  return issuers.map((entry) => {
    if (entry.issuer === peer.issuer) return { ...entry, jwksUri: `${ownUrl}/dev/issuer/jwks.json` };
    if (entry.issuer === peer.approvers) return { ...entry, jwksUri: `${ownUrl}/dev/approvers/jwks.json` };
    return entry;
  });
}
