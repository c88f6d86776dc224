// InventoryStore on the broker's DynamoDB table, single-item writes only (dynalite has no transactions):
//   account   pk=INVENTORY       sk=ACCOUNT#<accountId>                  written before its first snapshot
//   review    pk=INVENTORY       sk=REVIEW#<arn>                         the newest review of a principal
//   first     pk=INVENTORY       sk=FIRST#<workload|task>#<name>         a replacer's first grant, once seen
//   summary   pk=INV#<accountId> sk=SUM#<snapshotTime>                   counts: the trend reads only these
//   part      pk=INV#<accountId> sk=PART#<snapshotTime>#<nnnn>           principals as JSON, ~300 KB each
// A snapshot's parts are written first and its summary last, conditionally: a snapshot exists once its
// summary does, so a sync that fails part way leaves the previous one the newest (and its stray parts are
// removed, best effort; readers never see parts without a summary).
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { PrincipalRecord, Review } from "../core/inventory/records.ts";
import type { InventoryStore, Replacer, SnapshotSummary } from "../core/inventory/store.ts";
import { INDEX } from "./dynamodb-store.ts";
import { marshall, unmarshall } from "./marshall.ts";
import { DynamoOrganizationRuns } from "./organization-runs.ts";

const PART_BYTES = 300_000;
const WRITE_CONCURRENCY = 4;
const counts = z
  .object({
    "privileged-unreviewed": z.number(),
    "orphaned-principals": z.number(),
    "stale-principals": z.number(),
    "long-lived-keys": z.number(),
    "broker-bypass": z.number(),
    // Snapshots from before secrets were counted (CONTRACT §15) read as none.
    "static-secrets": z.number().default(0),
  })
  .strict();
const summaryItem = z
  .object({
    accountId: z.string(),
    snapshotTime: z.string(),
    generatedTime: z.string().nullable(),
    source: z.enum(["live", "files"]),
    principals: z.number(),
    counts,
    keys: z
      .object({ replaced: z.number(), unreplaced: z.number(), stillUsedAfterReplacement: z.number() })
      .strict(),
    // The static-secrets verdict's own counts (CONTRACT §15); absent in older snapshots.
    secrets: z
      .object({ brokered: z.number(), rotatedAfterUse: z.number(), exposed: z.number() })
      .strict()
      .optional(),
    brokerPrincipals: z.array(z.string()),
    brokerPrincipalsFrom: z.enum(["caller-identity", "config"]).optional(),
    parts: z.number(),
  })
  .strict();
const reviewItem = z
  .object({ arn: z.string(), by: z.string(), at: z.string(), note: z.string(), validUntil: z.string() })
  .strict();

const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as Error).name === "ConditionalCheckFailedException";

/** Splits records into JSON arrays of at most ~PART_BYTES each. */
function parts(records: readonly PrincipalRecord[]): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 2;
  for (const r of records) {
    const json = JSON.stringify(r);
    const bytes = Buffer.byteLength(json) + 1;
    if (current.length > 0 && size + bytes > PART_BYTES) {
      out.push(`[${current.join(",")}]`);
      current = [];
      size = 2;
    }
    current.push(json);
    size += bytes;
  }
  if (current.length > 0 || out.length === 0) out.push(`[${current.join(",")}]`);
  return out;
}

const partSk = (snapshotTime: string, n: number) => `PART#${snapshotTime}#${String(n).padStart(4, "0")}`;

export class DynamoInventoryStore implements InventoryStore {
  readonly organizationRuns: DynamoOrganizationRuns;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.organizationRuns = new DynamoOrganizationRuns(client, table);
  }

  private async queryAll(input: Omit<QueryCommandInput, "TableName">): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: QueryCommandInput["ExclusiveStartKey"];
    do {
      const out = await this.client.send(
        new QueryCommand({ TableName: this.table, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      for (const i of out.Items ?? []) items.push(unmarshall(i));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private prefix(pk: string, prefix: string, consistent = true) {
    return this.queryAll({
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :p)",
      ExpressionAttributeValues: marshall({ ":pk": pk, ":p": prefix }),
      ConsistentRead: consistent,
    });
  }

  private async deleteKeys(keys: { pk: string; sk: string }[]): Promise<void> {
    for (let i = 0; i < keys.length; i += WRITE_CONCURRENCY)
      await Promise.all(
        keys
          .slice(i, i + WRITE_CONCURRENCY)
          .map((k) => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: marshall(k) }))),
      );
  }

  async putSnapshot(summary: SnapshotSummary, records: readonly PrincipalRecord[]): Promise<void> {
    const pk = `INV#${summary.accountId}`;
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: "INVENTORY",
          sk: `ACCOUNT#${summary.accountId}`,
          type: "inventory-account",
          accountId: summary.accountId,
        }),
      }),
    );
    const bodies = parts(records);
    const written: { pk: string; sk: string }[] = [];
    try {
      for (let i = 0; i < bodies.length; i += WRITE_CONCURRENCY)
        await Promise.all(
          bodies.slice(i, i + WRITE_CONCURRENCY).map(async (body, j) => {
            const key = { pk, sk: partSk(summary.snapshotTime, i + j) };
            await this.client.send(
              new PutItemCommand({
                TableName: this.table,
                Item: marshall({ ...key, type: "inventory-part", records: body }),
                ConditionExpression: "attribute_not_exists(pk)",
              }),
            );
            written.push(key);
          }),
        );
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk,
            sk: `SUM#${summary.snapshotTime}`,
            type: "inventory-summary",
            ...summary,
            parts: bodies.length,
          }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      // Not committed: remove what was written so the table holds no half snapshot (best effort; readers
      // ignore parts without a summary anyway).
      await this.deleteKeys(written).catch(() => {});
      if (isConditionFailure(err))
        throw new Error(
          `a snapshot of account ${summary.accountId} at ${summary.snapshotTime} already exists`,
        );
      throw err;
    }
  }

  async pruneSnapshots(accountId: string, keep: number): Promise<number> {
    const summaries = await this.listSummaries(accountId);
    const old = summaries.slice(0, Math.max(0, summaries.length - keep));
    for (const s of old) {
      // The summary first: once it is gone the snapshot no longer exists, whatever happens to its parts.
      await this.deleteKeys([{ pk: `INV#${accountId}`, sk: `SUM#${s.snapshotTime}` }]);
      const partKeys = await this.prefix(`INV#${accountId}`, `PART#${s.snapshotTime}#`);
      await this.deleteKeys(partKeys.map((p) => ({ pk: String(p["pk"]), sk: String(p["sk"]) })));
    }
    return old.length;
  }

  async listAccounts(): Promise<string[]> {
    return (await this.prefix("INVENTORY", "ACCOUNT#")).map((i) => String(i["accountId"]));
  }

  async listSummaries(accountId: string): Promise<SnapshotSummary[]> {
    const items = await this.prefix(`INV#${accountId}`, "SUM#");
    return items.map((i) => {
      const {
        pk,
        sk,
        type,
        parts: _parts,
        ...summary
      } = summaryItem.extend({ pk: z.string(), sk: z.string(), type: z.string() }).parse(i);
      return summary;
    });
  }

  async readRecords(summary: SnapshotSummary): Promise<PrincipalRecord[]> {
    const items = await this.prefix(`INV#${summary.accountId}`, `PART#${summary.snapshotTime}#`);
    return items.flatMap((i) => JSON.parse(String(i["records"])) as PrincipalRecord[]);
  }

  async putReview(review: Review): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ pk: "INVENTORY", sk: `REVIEW#${review.arn}`, type: "inventory-review", ...review }),
      }),
    );
  }

  async listReviews(): Promise<Map<string, Review>> {
    const items = await this.prefix("INVENTORY", "REVIEW#");
    return new Map(
      items.map((i) => {
        const { pk, sk, type, ...review } = i;
        const r = reviewItem.parse(review);
        return [r.arn, r];
      }),
    );
  }

  async firstGrantMs(replacer: Replacer): Promise<number | undefined> {
    const key = { pk: "INVENTORY", sk: `FIRST#${replacer.kind}#${replacer.name}` };
    const memo = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: marshall(key), ConsistentRead: true }),
    );
    if (memo.Item) return Number(unmarshall(memo.Item)["firstGrantMs"]);
    const found =
      replacer.kind === "workload"
        ? await this.firstOfWorkload(replacer.name)
        : await this.firstOfTask(replacer.name);
    if (found === undefined) return undefined;
    // Remembered, so the date survives the grant's own retention; the first writer wins.
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({ ...key, type: "inventory-first-grant", firstGrantMs: found }),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    return found;
  }

  /** The workload index holds its grants by issue time: the oldest that was issued, a few items read. */
  private async firstOfWorkload(workload: string): Promise<number | undefined> {
    let start: QueryCommandInput["ExclusiveStartKey"];
    for (let page = 0; page < 10; page++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.byWorkload,
          KeyConditionExpression: "gsi1pk = :pk",
          ExpressionAttributeValues: marshall({ ":pk": `WG#${workload}` }),
          ScanIndexForward: true,
          Limit: 25,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const issued = (out.Items ?? [])
        .map((i) => unmarshall(i))
        .find((g) => g["status"] !== "failed" && g["status"] !== "issuing");
      if (issued) return Date.parse(String(issued["issuedAt"]));
      start = out.LastEvaluatedKey;
      if (!start) return undefined;
    }
    return undefined;
  }

  /** A task's audit key holds its events by time: the oldest issuance. */
  private async firstOfTask(task: string): Promise<number | undefined> {
    let start: QueryCommandInput["ExclusiveStartKey"];
    for (let page = 0; page < 10; page++) {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: INDEX.live,
          KeyConditionExpression: "livePk = :pk",
          FilterExpression: "outcome = :issue",
          ExpressionAttributeValues: marshall({ ":pk": `TA#${task}`, ":issue": "issue" }),
          ScanIndexForward: true,
          Limit: 200,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const first = out.Items?.[0];
      if (first) return Date.parse(String(unmarshall(first)["time"]));
      start = out.LastEvaluatedKey;
      if (!start) return undefined;
    }
    return undefined;
  }
}
