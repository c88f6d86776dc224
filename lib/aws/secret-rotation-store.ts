// The ledger of secret rotations in flight (CONTRACT §15), one item per secret in the broker's table:
//   rotation  pk=ROTATION#<secretArn>  sk=ROTATION   fromVersionId, startedAtMs, token
// A claim is one conditional PutItem, so of several grants of one secret ending together exactly one starts
// RotateSecret; the item expires by TTL a day after its rotation started.
import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { RotationLedger, RotationRecord } from "../core/providers/secret/ports.ts";
import { marshall, unmarshall } from "./marshall.ts";

const rotationItemSchema = z
  .object({
    secretArn: z.string().min(1),
    fromVersionId: z.string().min(1),
    startedAtMs: z.number(),
    token: z.string().min(1),
  })
  .strict();

const DAY_S = 86_400;

export class DynamoRotationLedger implements RotationLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  private key(secretArn: string) {
    return marshall({ pk: `ROTATION#${secretArn}`, sk: "ROTATION" });
  }

  async get(secretArn: string): Promise<RotationRecord | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: this.key(secretArn), ConsistentRead: true }),
    );
    if (!out.Item) return undefined;
    const { pk: _pk, sk: _sk, type: _type, ttl: _ttl, ...record } = unmarshall(out.Item);
    return rotationItemSchema.parse(record);
  }

  async claim(record: RotationRecord, staleBeforeMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: `ROTATION#${record.secretArn}`,
            sk: "ROTATION",
            type: "secret-rotation",
            ...record,
            ttl: Math.floor(record.startedAtMs / 1000) + DAY_S,
          }),
          // Free when no rotation is recorded, the recorded one moved another version, or it went stale.
          ConditionExpression: "attribute_not_exists(pk) OR fromVersionId <> :from OR startedAtMs < :stale",
          ExpressionAttributeValues: marshall({ ":from": record.fromVersionId, ":stale": staleBeforeMs }),
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async release(record: RotationRecord): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: this.key(record.secretArn),
          ConditionExpression: "#token = :token",
          ExpressionAttributeNames: { "#token": "token" },
          ExpressionAttributeValues: marshall({ ":token": record.token }),
        }),
      );
    } catch (err) {
      // Another claim replaced ours: it is not ours to delete.
      if ((err as Error).name === "ConditionalCheckFailedException") return;
      throw err;
    }
  }
}
