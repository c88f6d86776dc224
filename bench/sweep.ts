// Figure 5: one sweep with 100 due grants among 1,000 and among 100,000 active grants (the median of
// three rounds after a warm-up round, each with 100 fresh due grants). The sweep walks the due index up to now, so its reads and time should follow the 100 due grants, not the table size. The
// sweep state is settled on the empty table first (as on any broker that has swept before), so the
// measured run is the steady state, not a config-change pass.
import { DynamoGrantStore } from "../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../lib/aws/table-definition.ts";
import { resolveConfig } from "../lib/config/resolve.ts";
import { fixedClock, isoSeconds } from "../lib/core/clock.ts";
import type { Grant } from "../lib/core/grant.ts";
import { claimsToTags } from "../lib/core/identity/claims.ts";
import { newId } from "../lib/core/ids.ts";
import { silentLogger } from "../lib/core/logger.ts";
import { sweepDue } from "../lib/core/sweep.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { createLocalSigner, generateSigningKey } from "../lib/local/local-signer.ts";
import { buildBrokerDeps } from "../lib/runtime/broker-deps.ts";
import { createTestIssuer } from "../test/support/issuer.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { batchWrite, grantItems } from "./seed.ts";
import { median, round } from "./stats.ts";

export interface SweepFigures {
  sweepItemsRead1k: number;
  sweepItemsRead100k: number;
  sweepMs1k: number;
  sweepMs100k: number;
  sweepScalingRatio: number;
  /** Seeding is not part of the figure; reported so a slow run can be explained. */
  seedMs100k: number;
  /** Active grants in the large table: 100,000, or 10,000 under --quick (the keys keep their names). */
  sweepLargeActive: number;
  seedItemsPerSecond: number;
}

const DUE = 100;
const POLICY = `@id("reports-readers") permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.name == "web-ci" && principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };`;

async function oneSize(
  total: number,
  rounds: number,
): Promise<{ itemsRead: number; ms: number; seedMs: number }> {
  const dynamo = await startLocalDynamo();
  try {
    const tableName = `sweep-${total}`;
    await ensureTable(dynamo.client, tableName);
    let itemsRead = 0;
    const store = new DynamoGrantStore({ client: dynamo.client, tableName, onRead: (n) => (itemsRead += n) });
    const issuer = await createTestIssuer();
    const resolved = resolveConfig(
      {
        version: 1,
        audience: "credbroker",
        issuerUrl: "https://broker.bench",
        issuers: [
          {
            name: "github",
            issuer: issuer.issuer,
            jwks: issuer.jwks,
            algorithms: [issuer.alg],
            maxTokenAgeSeconds: 900,
            clockToleranceSeconds: 30,
          },
        ],
        workloads: [
          { name: "web-ci", issuer: "github", subject: "repo:acme/web:**", owner: "team-web@acme.example" },
        ],
        tasks: [
          {
            name: "read-reports",
            provider: "jwt",
            audience: "https://reports.acme.example",
            scopes: ["reports:read"],
            maxDurationSeconds: 3600,
            sensitivity: "low",
          },
        ],
        policies: ["policies/*.cedar"],
      },
      [{ file: "policies/bench.cedar", text: POLICY }],
      "bench-sweep",
    );
    const now = Date.now();
    const clock = fixedClock(now);
    const deps = await buildBrokerDeps(resolved, {
      store,
      signer: await createLocalSigner(generateSigningKey()),
      clock,
      log: silentLogger,
    });
    await sweepDue(deps, { budgetMs: 600_000 }); // settles the sweep state on the empty table

    const claimTags = claimsToTags(GITHUB_LIKE_CLAIMS);
    const grant = (i: number, due: boolean): { grant: Grant; dueAtMs: number } => {
      // Due grants ran out a minute ago; the rest expire within the next hour, spread out.
      const expiresAtMs = due ? now - 60_000 : now + 60_000 + ((i * 3_517) % 3_500_000);
      const issuedAtMs = expiresAtMs - 3_600_000;
      return {
        grant: {
          grantId: newId(issuedAtMs),
          workload: "web-ci",
          subject: "repo:acme/web:ref:refs/heads/main",
          issuer: "github",
          task: "read-reports",
          provider: "jwt",
          status: "active",
          issuedAt: isoSeconds(issuedAtMs),
          expiresAt: isoSeconds(expiresAtMs),
          policyIds: ["reports-readers"],
          sourceIp: "10.1.2.3",
          purpose: "",
          decisionId: newId(issuedAtMs),
          durationSeconds: 3600,
          configVersion: deps.configVersion,
          subjectTokenSha256: "0".repeat(64),
          claimTags,
        },
        dueAtMs: expiresAtMs,
      };
    };
    const seed = async (from: number, count: number, due: boolean) => {
      const items = await grantItems(
        tableName,
        store.dueShards,
        Array.from({ length: count }, (_, k) => grant(from + k, due)),
      );
      await batchWrite(dynamo.client, tableName, items);
    };

    const t0 = performance.now();
    await seed(0, total - DUE, false);
    const seedMs = performance.now() - t0;

    // Each round puts 100 fresh due grants beside the others and sweeps them; the first round warms up.
    const times: number[] = [];
    let itemsReadLast = 0;
    for (let round = 0; round <= rounds; round++) {
      await seed(total + round * DUE, DUE, true);
      itemsRead = 0;
      const t1 = performance.now();
      const summary = await sweepDue(deps, { budgetMs: 600_000 });
      const ms = performance.now() - t1;
      if (summary.expired !== DUE || !summary.complete)
        throw new Error(
          `sweep over ${total} grants expired ${summary.expired} of ${DUE} (complete: ${summary.complete})`,
        );
      if (round > 0) times.push(ms);
      itemsReadLast = itemsRead;
    }
    const ms = median(times);
    return { itemsRead: itemsReadLast, ms, seedMs };
  } finally {
    await dynamo.close();
  }
}

export async function benchSweep(options: { large?: number; rounds?: number } = {}): Promise<SweepFigures> {
  const large = options.large ?? 100_000;
  const rounds = options.rounds ?? 3;
  // The first table of the process also warms the JIT for the whole sweep path; it is not counted.
  await oneSize(1_000, 1);
  const small = await oneSize(1_000, rounds);
  const big = await oneSize(large, rounds);
  return {
    sweepItemsRead1k: small.itemsRead,
    sweepItemsRead100k: big.itemsRead,
    sweepMs1k: round(small.ms, 1),
    sweepMs100k: round(big.ms, 1),
    sweepScalingRatio: round(big.ms / small.ms, 3),
    seedMs100k: round(big.seedMs, 0),
    seedItemsPerSecond: round((large - DUE) / (big.seedMs / 1000), 0),
    sweepLargeActive: large,
  };
}
