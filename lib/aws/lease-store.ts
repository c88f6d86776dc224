// Sweep leases on the broker's table (CONTRACT §16): one item a shard, written conditionally, so on a
// strongly consistent global table (MRSC) exactly one region's sweeper holds a shard at a time.
//   lease   pk=SWEEP#LEASE   sk=SHARD#<n>   holder, expiresAtMs
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { LeaseRecord, LeaseStore } from "../core/sweep-lease.ts";
import { marshall, unmarshall } from "./marshall.ts";

const PK = "SWEEP#LEASE";
/** Set on the sweep function of a multi-region broker: its leases' length in seconds. */
export const SWEEP_LEASE_ENV = "CREDBROKER_SWEEP_LEASE_SECONDS";
const leaseItem = z
  .object({
    pk: z.literal(PK),
    sk: z.string().regex(/^SHARD#\d+$/),
    type: z.literal("sweep-lease"),
    shard: z.number().int().min(0),
    holder: z.string(),
    expiresAtMs: z.number(),
  })
  .strict();

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException";

export class DynamoLeaseStore implements LeaseStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async tryLease(shard: number, holder: string, nowMs: number, untilMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: PK,
            sk: `SHARD#${shard}`,
            type: "sweep-lease",
            shard,
            holder,
            expiresAtMs: untilMs,
          }),
          ConditionExpression: "attribute_not_exists(pk) OR holder = :me OR expiresAtMs <= :now",
          ExpressionAttributeValues: marshall({ ":me": holder, ":now": nowMs }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async release(shard: number, holder: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall({ pk: PK, sk: `SHARD#${shard}` }),
          ConditionExpression: "holder = :me",
          ExpressionAttributeValues: marshall({ ":me": holder }),
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
  }

  async list(): Promise<Map<number, LeaseRecord>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: marshall({ ":pk": PK }),
        ConsistentRead: true,
      }),
    );
    return new Map(
      (out.Items ?? []).map((i) => {
        const l = leaseItem.parse(unmarshall(i));
        return [l.shard, { holder: l.holder, expiresAtMs: l.expiresAtMs }];
      }),
    );
  }
}
