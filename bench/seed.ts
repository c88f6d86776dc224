// Fast seeding of many grants: each item is built by the real DynamoGrantStore.createGrant (so its keys
// and indexes are exactly what the broker writes), captured instead of sent, then written straight into
// dynalite with BatchWriteItem, many batches in flight.
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  type PutItemCommandInput,
} from "@aws-sdk/client-dynamodb";
import { DynamoGrantStore } from "../lib/aws/dynamodb-store.ts";
import type { Grant } from "../lib/core/grant.ts";

/** The items createGrant would write, in order. */
export async function grantItems(
  tableName: string,
  dueShards: number,
  grants: { grant: Grant; dueAtMs: number }[],
) {
  const items: Record<string, AttributeValue>[] = [];
  const capture = {
    send: async (command: { input: PutItemCommandInput }) => {
      items.push(command.input.Item!);
      return {};
    },
  } as unknown as DynamoDBClient;
  const store = new DynamoGrantStore({ client: capture, tableName, dueShards });
  for (const { grant, dueAtMs } of grants) await store.createGrant(grant, dueAtMs);
  return items;
}

export async function batchWrite(
  client: DynamoDBClient,
  tableName: string,
  items: Record<string, AttributeValue>[],
  parallel = 16,
): Promise<void> {
  const batches: Record<string, AttributeValue>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let pending = batches[next++]!.map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error("BatchWriteItem kept returning unprocessed items");
        const out = await client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: pending } }));
        pending = (out.UnprocessedItems?.[tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}
