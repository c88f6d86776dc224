// Two `credbroker dev` brokers on one table (CONTRACT §16: `dev --peer`), in process, on an engine outside
// both (so either can be killed), with one injected clock, frozen but for an offset the test moves (so
// leases lapse and grants expire without waiting, however long the run really takes). Token requests are
// spread over both; one broker is killed mid-run; every transition either broker makes is counted.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { GrantStatus } from "../../lib/core/grant.ts";
import { silentLogger } from "../../lib/core/logger.ts";
import { fetchPeer } from "../../lib/local/dev-peer.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { startLocalDynamo } from "../../lib/local/dynalite.ts";
import { TOKEN_EXCHANGE_FORM } from "../security/dev-harness.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

export const LEASE_SECONDS = 120;
const SUBJECT = "repo:acme/web:ref:refs/heads/main";

export interface PeerRun {
  answered: { grantId: string; via: "a" | "b"; token: string }[];
  unanswered: number;
  refused: number;
  moves: string[];
  a: DevBroker;
  b: DevBroker;
  advance(ms: number): void;
  close(): Promise<void>;
}

async function mint(broker: DevBroker): Promise<string> {
  const res = await fetch(`${broker.url}/dev/issuer/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ sub: SUBJECT, claims: { repository: "acme/web" } }),
  });
  return ((await res.json()) as { token: string }).token;
}

/** `total` requests, `concurrency` at once, alternating brokers; `a` is killed once `killAfter` answered. */
export async function peerRun(o: {
  total: number;
  concurrency: number;
  killAfter: number;
}): Promise<PeerRun> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-peer-"));
  const engine = await startLocalDynamo();
  let offset = 0;
  // Frozen but for the offset the test moves: nothing depends on how long the run really takes.
  const base = Date.now();
  const clock = { now: () => base + offset };
  const port = await freePort();
  const configPath = await demoConfigFor(dataDir, port);
  const common = {
    configPath,
    sweepIntervalSeconds: 0,
    clock,
    log: silentLogger,
    leaseSeconds: LEASE_SECONDS,
  };
  const a = await startDev({ ...common, port, dataDir, dynamoEndpoint: engine.endpoint });
  const b = await startDev({ ...common, port: 0, peer: await fetchPeer(a.url) });
  const moves: string[] = [];
  for (const broker of [a, b]) {
    const store = broker.deps.store;
    const transition = store.transition.bind(store) as (...args: unknown[]) => Promise<unknown>;
    store.transition = (async (...args: [string, GrantStatus, GrantStatus]) => {
      const out = await transition(...args);
      moves.push(`${args[0]}:${args[1]}->${args[2]}`);
      return out;
    }) as typeof store.transition;
  }
  // A sweeps first, so it holds every shard's lease when it dies.
  await a.sweep();

  const tokens = { a: await mint(a), b: await mint(b) };
  const answered: PeerRun["answered"] = [];
  let unanswered = 0;
  let refused = 0;
  let aliveA = true;
  let next = 0;
  const one = async (i: number) => {
    const via = i % 2 === 0 ? "a" : "b";
    const broker = via === "a" ? a : b;
    try {
      const res = await fetch(`${broker.url}/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        // Each broker's dev token verifies on the other: one issuer, one key.
        body: TOKEN_EXCHANGE_FORM(i % 4 < 2 ? tokens.a : tokens.b, "read-reports", {
          duration_seconds: "60",
        }),
      });
      const body = (await res.json()) as { grant_id?: string; access_token?: string };
      if (res.status === 200 && body.grant_id)
        answered.push({ grantId: body.grant_id, via, token: body.access_token! });
      else refused++;
    } catch {
      unanswered++; // the killed broker's connections
    }
    if (aliveA && answered.length >= o.killAfter) {
      aliveA = false;
      // Killed: its server and sweep stop; the table, outside it, goes on.
      a.server.closeAllConnections();
      await a.close();
    }
  };
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.total) await one(next++);
    }),
  );
  return {
    answered,
    unanswered,
    refused,
    moves,
    a,
    b,
    advance: (ms) => {
      offset += ms;
    },
    async close() {
      if (aliveA) await a.close();
      await b.close();
      await engine.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
