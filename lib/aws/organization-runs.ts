// The organisation inventory's runs on the broker's table (single-item writes, no transactions):
//   run      pk=INVENTORY             sk=ORGRUN#<snapshotTime>   the listed accounts, deadline, left-out ones
//   result   pk=INVRUN#<snapshotTime> sk=ACC#<accountId>         one account's `ok` or its error
// Each worker writes only its own account's item, so 1,000 workers never contend on one item.
import {
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { AccountResult, OrganizationRun, OrganizationRunStore } from "../core/inventory/organization.ts";
import { marshall, unmarshall } from "./marshall.ts";

const keyFields = { pk: z.string(), sk: z.string(), type: z.string() };
const runItem = z
  .object({
    ...keyFields,
    snapshotTime: z.string(),
    accounts: z.array(z.string()),
    deadline: z.string(),
    skipped: z.array(z.object({ accountId: z.string(), why: z.string() }).strict()),
  })
  .strict();
const counts = z.record(z.string(), z.number());
const resultItem = z.discriminatedUnion("status", [
  z
    .object({
      ...keyFields,
      accountId: z.string(),
      status: z.literal("ok"),
      principals: z.number(),
      counts,
      at: z.string(),
    })
    .strict(),
  z
    .object({
      ...keyFields,
      accountId: z.string(),
      status: z.literal("error"),
      error: z.string(),
      at: z.string(),
    })
    .strict(),
]);

export class DynamoOrganizationRuns implements OrganizationRunStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async putRun(run: OrganizationRun): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: "INVENTORY",
          sk: `ORGRUN#${run.snapshotTime}`,
          type: "inventory-org-run",
          ...run,
        }),
      }),
    );
  }

  async putResult(snapshotTime: string, result: AccountResult): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: `INVRUN#${snapshotTime}`,
          sk: `ACC#${result.accountId}`,
          type: "inventory-org-result",
          ...result,
        }),
      }),
    );
  }

  async latestRun(): Promise<{ run: OrganizationRun; results: AccountResult[] } | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues: marshall({ ":pk": "INVENTORY", ":p": "ORGRUN#" }),
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = out.Items?.[0];
    if (!item) return undefined;
    const { pk: _pk, sk: _sk, type: _type, ...run } = runItem.parse(unmarshall(item));
    const results: AccountResult[] = [];
    let start: QueryCommandInput["ExclusiveStartKey"];
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: marshall({ ":pk": `INVRUN#${run.snapshotTime}` }),
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const i of page.Items ?? []) {
        const { pk: _p, sk: _s, type: _t, ...r } = resultItem.parse(unmarshall(i));
        results.push(r as AccountResult);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return { run, results };
  }
}
