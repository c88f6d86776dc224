// ApprovalStore on the broker's one DynamoDB table (single-item conditional writes only, as on dynalite).
//   request    pk=APPROVAL#<id>            sk=APPROVAL   version (every write conditional on it), ttl
//              gsi1 (history by month)     gsi1pk=APPROVALS#<yyyy-mm>  gsi1sk=<requestedAt>#<id>
//              gsi3 (pending, sparse)      livePk=APPROVALS#PENDING    liveSk=<requestedAt>#<id>
//              gsi2 (due, sparse)          duePk=APPROVALS#DUE         dueSk=<expiresAt ms, 13 digits>#<id>
//   open slot  pk=APPROVAL-OPEN#<sha256(workload, task, purpose)>  sk=OPEN  approvalId, ttl
// The due and pending entries are only on requests still waiting (for approvers, or for the workload to
// collect), so the sweep and `GET /approvals` read what is open, never the history.
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from "@aws-sdk/client-dynamodb";
import { DEFAULT_RETENTION_DAYS } from "../config/defaults.ts";
import type { ApprovalRequest } from "../core/approvals/request.ts";
import { type ApprovalStore, ApprovalVersionConflict } from "../core/approvals/store.ts";
import type { Page } from "../core/store.ts";
import { approvalFromItem } from "./approval-item.ts";
import { marshall, unmarshall } from "./marshall.ts";
import { TABLE_INDEXES } from "./table-definition.ts";

const DAY_S = 86_400;
const pad = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, "0");
const PENDING_PK = "APPROVALS#PENDING";
const DUE_PK = "APPROVALS#DUE";
const monthKey = (ms: number) => `APPROVALS#${new Date(ms).toISOString().slice(0, 7)}`;
const isConditionalFailure = (err: unknown) => (err as Error).name === "ConditionalCheckFailedException";

export interface DynamoApprovalStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** How long a finished request is kept after its expiry, in days (the grants' retention). */
  retentionDays?: number;
  onRead?: (items: number) => void;
}

export class DynamoApprovalStore implements ApprovalStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly retentionS: number;
  private readonly onRead: (n: number) => void;

  constructor(options: DynamoApprovalStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.retentionS = (options.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_S;
    this.onRead = options.onRead ?? (() => {});
  }

  private item(r: ApprovalRequest, writeId: string): Record<string, unknown> {
    const requestedAt = new Date(r.requestedAtMs).toISOString();
    const waiting = r.status === "pending" || (r.status === "approved" && r.grantId === undefined);
    return {
      pk: `APPROVAL#${r.approvalId}`,
      sk: "APPROVAL",
      type: "approval",
      ...r,
      writeId,
      gsi1pk: monthKey(r.requestedAtMs),
      gsi1sk: `${requestedAt}#${r.approvalId}`,
      ...(r.status === "pending" ? { livePk: PENDING_PK, liveSk: `${requestedAt}#${r.approvalId}` } : {}),
      ...(waiting ? { duePk: DUE_PK, dueSk: `${pad(r.expiresAtMs)}#${r.approvalId}` } : {}),
      // DynamoDB's TTL removes the record once its retention after expiry has passed.
      ttl: Math.floor(r.expiresAtMs / 1000) + this.retentionS,
    };
  }

  async create(r: ApprovalRequest): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(this.item(r, randomUUID())),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  private async getItem(approvalId: string): Promise<Record<string, unknown> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `APPROVAL#${approvalId}`, sk: "APPROVAL" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    return out.Item ? unmarshall(out.Item) : undefined;
  }

  async get(approvalId: string): Promise<ApprovalRequest | undefined> {
    const item = await this.getItem(approvalId);
    return item ? approvalFromItem(item) : undefined;
  }

  async replace(next: ApprovalRequest): Promise<void> {
    // A fresh write id lets a retry whose first attempt landed (its answer lost) recognise its own write.
    const writeId = randomUUID();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall(this.item(next, writeId)),
          ConditionExpression: "attribute_exists(pk) AND version = :previous",
          ExpressionAttributeValues: marshall({ ":previous": next.version - 1 }),
        }),
      );
    } catch (err) {
      if (!isConditionalFailure(err)) throw err;
      const current = await this.getItem(next.approvalId);
      if (current?.["writeId"] === writeId) return;
      throw new ApprovalVersionConflict(next.approvalId);
    }
  }

  async remove(approvalId: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `APPROVAL#${approvalId}`, sk: "APPROVAL" }),
      }),
    );
  }

  async openRequest(key: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `APPROVAL-OPEN#${key}`, sk: "OPEN" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    const id = out.Item ? unmarshall(out.Item)["approvalId"] : undefined;
    return typeof id === "string" ? id : undefined;
  }

  async claimOpen(key: string, approvalId: string, expected: string | undefined, expiresAtMs: number) {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: `APPROVAL-OPEN#${key}`,
            sk: "OPEN",
            type: "approval-open",
            approvalId,
            ttl: Math.floor(expiresAtMs / 1000) + DAY_S,
          }),
          ConditionExpression: expected === undefined ? "attribute_not_exists(pk)" : "approvalId = :expected",
          ...(expected === undefined
            ? {}
            : { ExpressionAttributeValues: marshall({ ":expected": expected }) }),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      throw err;
    }
  }

  private async queryAll(
    input: Omit<QueryCommandInput, "TableName">,
    limit = 10_000,
  ): Promise<ApprovalRequest[]> {
    const items: ApprovalRequest[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await this.client.send(
        new QueryCommand({ TableName: this.table, ...input, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      this.onRead(out.ScannedCount ?? out.Count ?? 0);
      for (const i of out.Items ?? []) items.push(approvalFromItem(unmarshall(i)));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }

  async listPending(): Promise<ApprovalRequest[]> {
    return this.queryAll({
      IndexName: TABLE_INDEXES[2].indexName,
      KeyConditionExpression: "livePk = :pk",
      ExpressionAttributeValues: marshall({ ":pk": PENDING_PK }),
    });
  }

  async listDue(
    untilMs: number,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<Page<ApprovalRequest>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: TABLE_INDEXES[1].indexName,
        KeyConditionExpression: "duePk = :pk AND dueSk <= :until",
        ExpressionAttributeValues: marshall({ ":pk": DUE_PK, ":until": `${pad(untilMs)}#~` }),
        ...(options.cursor
          ? { ExclusiveStartKey: JSON.parse(Buffer.from(options.cursor, "base64url").toString("utf8")) }
          : {}),
        ...(options.limit ? { Limit: options.limit } : {}),
      }),
    );
    this.onRead(out.ScannedCount ?? out.Count ?? 0);
    const page: Page<ApprovalRequest> = {
      items: (out.Items ?? []).map((i) => approvalFromItem(unmarshall(i))),
    };
    if (out.LastEvaluatedKey)
      page.cursor = Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString("base64url");
    return page;
  }

  async listRequested(sinceMs: number, untilMs: number): Promise<ApprovalRequest[]> {
    const months: string[] = [];
    const d = new Date(sinceMs);
    for (let m = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1); m <= untilMs; ) {
      months.push(monthKey(m));
      const next = new Date(m);
      m = Date.UTC(next.getUTCFullYear(), next.getUTCMonth() + 1, 1);
    }
    const since = new Date(sinceMs).toISOString();
    const until = `${new Date(untilMs).toISOString()}~`;
    const parts = await Promise.all(
      months.map((pk) =>
        this.queryAll({
          IndexName: TABLE_INDEXES[0].indexName,
          KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :since AND :until",
          ExpressionAttributeValues: marshall({ ":pk": pk, ":since": since, ":until": until }),
        }),
      ),
    );
    return parts.flat();
  }
}
