// Lifecycle test helpers: a table we can seed fast (BatchWriteItem straight into the store's item layout)
// and grant records as the token path writes them.
import { BatchWriteItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoGrantStore, shardOf } from "../../lib/aws/dynamodb-store.ts";
import { marshall } from "../../lib/aws/marshall.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { isoSeconds } from "../../lib/core/clock.ts";
import type { Grant } from "../../lib/core/grant.ts";
import { newId } from "../../lib/core/ids.ts";
import { NOW, sharedDynamo } from "../support/broker.ts";

let counter = 0;

export interface SeedableStore {
  store: DynamoGrantStore;
  /** Writes grants as they would be after the token path: `dueAtMs` undefined keeps them off the due index. */
  seed(grants: { grant: Grant; dueAtMs?: number }[]): Promise<void>;
}

export async function seedableStore(
  options: { dueShards?: number; onRead?: (n: number) => void } = {},
): Promise<SeedableStore> {
  const d = await sharedDynamo();
  const tableName = `life${process.pid}x${++counter}`;
  await ensureTable(d.client, tableName);
  const store = new DynamoGrantStore({ client: d.client, tableName, ...options });
  const shards = store.dueShards;
  const item = ({ grant, dueAtMs }: { grant: Grant; dueAtMs?: number }) => ({
    pk: `GRANT#${grant.grantId}`,
    sk: "GRANT",
    type: "grant",
    ...grant,
    gsi1pk: `WG#${grant.workload}`,
    gsi1sk: `${grant.issuedAt}#${grant.grantId}`,
    ...(grant.status === "issuing" || grant.status === "active"
      ? { livePk: `LIVE#${grant.workload}`, liveSk: grant.grantId }
      : {}),
    ...(dueAtMs !== undefined
      ? {
          duePk: `DUE#${shardOf(grant.grantId, shards)}`,
          dueSk: `${String(dueAtMs).padStart(13, "0")}#${grant.grantId}`,
        }
      : {}),
  });
  const seed = async (grants: { grant: Grant; dueAtMs?: number }[]) => {
    const batches: Record<string, unknown>[][] = [];
    for (let i = 0; i < grants.length; i += 25) batches.push(grants.slice(i, i + 25).map(item));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        let pending = batch.map((i) => ({ PutRequest: { Item: marshall(i) } }));
        while (pending.length > 0) {
          const out = await d.client.send(
            new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }),
          );
          pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
  };
  return { store, seed };
}

/** An active jwt grant for `read-reports`, issued at NOW with the given lifetime, as the token path records it. */
export function activeGrant(overrides: Partial<Grant> & { lifetimeSeconds?: number } = {}): Grant {
  const { lifetimeSeconds = 300, ...rest } = overrides;
  const issuedAtMs = rest.issuedAt ? Date.parse(rest.issuedAt) : NOW;
  return {
    grantId: newId(issuedAtMs),
    workload: "web-ci",
    subject: "repo:acme/web:ref:refs/heads/main",
    issuer: "test",
    task: "read-reports",
    provider: "jwt",
    status: "active",
    issuedAt: isoSeconds(issuedAtMs),
    expiresAt: isoSeconds(issuedAtMs + lifetimeSeconds * 1000),
    policyIds: ["ci-reads-reports"],
    sourceIp: "127.0.0.1",
    purpose: "",
    decisionId: newId(issuedAtMs),
    durationSeconds: lifetimeSeconds,
    configVersion: "seeded",
    subjectTokenSha256: "0".repeat(64),
    claimTags: { repository: "acme/web", sub: "repo:acme/web:ref:refs/heads/main" },
    ...rest,
  };
}
