// `credbroker dev`'s approver issuer (CONTRACT §10): its own discovery and keys at /dev/approvers, trusted by
// the demo config on any port, and never interchangeable with the workload dev issuer.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { freePort } from "../support/dev.ts";

let dev: DevBroker;
beforeAll(async () => {
  // The demo config as shipped (it names port 8787) on another port: both dev issuers follow the server.
  dev = await startDev({
    configPath: "examples/broker.config.yaml",
    port: await freePort(),
    dynamoPort: 0,
    inMemory: true,
    dataDir: await mkdtemp(join(tmpdir(), "cb-approvers-")),
    sweepIntervalSeconds: 0,
    log: silentLogger,
  });
}, 60_000);
afterAll(() => dev?.close());

const get = async (path: string) =>
  (await fetch(`${dev.url}${path}`)).json() as Promise<Record<string, unknown>>;
const mint = async (issuer: "issuer" | "approvers", sub: string, claims: Record<string, unknown> = {}) => {
  const res = await fetch(`${dev.url}/dev/${issuer}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub, claims }),
  });
  return ((await res.json()) as { token: string }).token;
};

describe("the dev approver issuer", () => {
  it("serves discovery and a JWKS of its own at /dev/approvers", async () => {
    const discovery = await get("/dev/approvers/.well-known/openid-configuration");
    expect(discovery).toMatchObject({
      issuer: `${dev.url}/dev/approvers`,
      jwks_uri: `${dev.url}/dev/approvers/jwks.json`,
    });
    const approverKeys = (await get("/dev/approvers/jwks.json"))["keys"] as { kid: string }[];
    const workloadKeys = (await get("/dev/issuer/jwks.json"))["keys"] as { kid: string }[];
    expect(approverKeys).toHaveLength(1);
    expect(approverKeys[0]!.kid).not.toBe(workloadKeys[0]!.kid);
  });

  it("mints tokens the approver routes accept, while workload dev tokens get 401 there", async () => {
    const approver = await mint("approvers", "alice", { groups: "sre", email: "alice@acme.example" });
    const ok = await fetch(`${dev.url}/approvals`, { headers: { authorization: `Bearer ${approver}` } });
    expect(ok.status).toBe(200);
    const workload = await mint("issuer", "agent:ops");
    const refused = await fetch(`${dev.url}/approvals`, { headers: { authorization: `Bearer ${workload}` } });
    expect(refused.status).toBe(401);
  });

  it("identifies no workload: an approver token at /token gets nothing", async () => {
    const approver = await mint("approvers", "agent:ops");
    const res = await fetch(`${dev.url}/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: approver,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "rotate-prod-db",
        purpose: "x",
      }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: string }).error).toBe("access_denied");
  });
});
