// GrantStore on DynamoDB: one table, single-item conditional writes only (no transactions), so the same
// code runs on DynamoDB and on dynalite. Key design:
//   grant     pk=GRANT#<id>            sk=GRANT
//             gsi1 (by workload, history)   gsi1pk=WG#<workload>  gsi1sk=<issuedAt>#<id>
//             gsi2 (due, sparse, sharded)   duePk=DUE#<n>         dueSk=<dueAt ms, 13 digits>#<id>
//             gsi3 (live by workload, sparse) livePk=LIVE#<workload> liveSk=<id>
//             gsi4 (live by CI task, sparse) taskPk=TASK#<run>  taskSk=<job or ->#<id>   (lib/aws/event-store.ts)
//   audit     pk=AUDIT#<yyyy-mm-dd>#<n> sk=<time>#<eventId>  gsi1pk=WA#<workload> gsi1sk=<time>#<eventId>
//             (n = hash(eventId) mod auditShards: a day's writes spread over several keys; audit-partitions.ts)
//             gsi3 (by task; a second key space on the sparse index) livePk=TA#<task> liveSk=<time>#<eventId>
//   signals   pk=SIGNALS#<workload>    sk=SIGNALS            signals = map
//   rotation  pk=ROTATION#<secretArn>  sk=ROTATION           a secret rotation in flight (secret-rotation-store.ts)
//   day summaries and the last sweep run: lib/aws/governance-store.ts
// Finished grants and audit events carry `ttl` (epoch seconds) for retention.

import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { DEFAULT_RETENTION_DAYS } from "../config/defaults.ts";
import type { AuditEvent } from "../core/audit.ts";
import { canTransition, type Grant, type GrantStatus, isFinal } from "../core/grant.ts";
import { isLateAuditWrite } from "../core/report/day-margin.ts";
import {
  type GrantStore,
  type Page,
  type ReevaluationMark,
  type SweepState,
  TransitionConflict,
  type TransitionPatch,
} from "../core/store.ts";
import { DynamoApprovalStore } from "./approval-store.ts";
import { AUDIT_SHARDS, auditKey } from "./audit-partitions.ts";
import { type PartitionQuery, readAuditPeriod } from "./audit-period-reader.ts";
import { DynamoEventStore, taskIndexKeys } from "./event-store.ts";
import { DynamoGovernanceStore } from "./governance-store.ts";
import { grantFromItem } from "./grant-item.ts";
import { marshall, unmarshall } from "./marshall.ts";
import { DynamoRotationLedger } from "./secret-rotation-store.ts";
import { shardOf } from "./shard.ts";
import { sweepStateItemSchema } from "./sweep-state-item.ts";
import { TABLE_INDEXES } from "./table-definition.ts";

export interface DynamoGrantStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Number of due-index partitions; more shards spread writes at high issue rates. */
  dueShards?: number;
  /** Partition keys per day of audit events; every reader must use at least the writers' count. */
  auditShards?: number;
  /** Retention of finished grants and audit events, in days. */
  grantRetentionDays?: number;
  auditRetentionDays?: number;
  /** Counts items read, for tests and the benchmark that show cost follows change. */
  onRead?: (items: number) => void;
  /**
   * The writer's clock, to notice an audit write that lands after its day closed and mark that day's
   * summary out of date (docs/governance.md). Without it no such mark is made.
   */
  clock?: () => number;
}

/** The table's indexes by what the store reads them for, named from the one table definition. */
export const INDEX = {
  byWorkload: TABLE_INDEXES[0].indexName,
  due: TABLE_INDEXES[1].indexName,
  live: TABLE_INDEXES[2].indexName,
} as const;

const DAY_S = 86_400;
const pad = (n: number) => String(Math.max(0, Math.floor(n))).padStart(13, "0");

export { shardOf };

function encodeCursor(key: Record<string, AttributeValue> | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString("base64url") : undefined;
}
function decodeCursor(cursor: string | undefined): Record<string, AttributeValue> | undefined {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new TypeError("invalid cursor");
  }
}

export class DynamoGrantStore implements GrantStore {
  readonly dueShards: number;
  readonly auditShards: number;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly grantTtlS: number;
  private readonly auditTtlS: number;
  private readonly onRead: (n: number) => void;
  /** Webhook deliveries, ended tasks and grants by CI task (CONTRACT §13): lib/aws/event-store.ts. */
  readonly events: DynamoEventStore;
  /** Approval requests (CONTRACT §10) in the same table: lib/aws/approval-store.ts. */
  readonly approvals: DynamoApprovalStore;
  /** Secret rotations in flight (CONTRACT §15) in the same table: lib/aws/secret-rotation-store.ts. */
  readonly secretRotations: DynamoRotationLedger;
  /** Day summaries and the last sweep run, in the same table. */
  readonly governance: DynamoGovernanceStore;
  private readonly clock: (() => number) | undefined;

  constructor(options: DynamoGrantStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.dueShards = options.dueShards ?? 8;
    this.auditShards = options.auditShards ?? AUDIT_SHARDS;
    if (!Number.isInteger(this.auditShards) || this.auditShards < 1 || this.auditShards > 64)
      throw new TypeError("auditShards must be an integer 1..64");
    this.grantTtlS = (options.grantRetentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_S;
    this.auditTtlS = (options.auditRetentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_S;
    this.onRead = options.onRead ?? (() => {});
    this.events = new DynamoEventStore({ client: options.client, tableName: options.tableName });
    this.approvals = new DynamoApprovalStore({
      client: options.client,
      tableName: options.tableName,
      retentionDays: options.grantRetentionDays ?? DEFAULT_RETENTION_DAYS,
      onRead: this.onRead,
    });
    this.secretRotations = new DynamoRotationLedger(options.client, options.tableName);
    this.governance = new DynamoGovernanceStore({
      client: options.client,
      tableName: options.tableName,
      retentionDays: options.auditRetentionDays ?? DEFAULT_RETENTION_DAYS,
      onRead: this.onRead,
    });
    this.clock = options.clock;
  }

  private dueKeys(grantId: string, dueAtMs: number) {
    return { duePk: `DUE#${shardOf(grantId, this.dueShards)}`, dueSk: `${pad(dueAtMs)}#${grantId}` };
  }

  async createGrant(grant: Grant, dueAtMs: number): Promise<void> {
    const item = {
      pk: `GRANT#${grant.grantId}`,
      sk: "GRANT",
      type: "grant",
      ...grant,
      gsi1pk: `WG#${grant.workload}`,
      gsi1sk: `${grant.issuedAt}#${grant.grantId}`,
      livePk: `LIVE#${grant.workload}`,
      liveSk: grant.grantId,
      ...taskIndexKeys(grant),
      ...this.dueKeys(grant.grantId, dueAtMs),
    };
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall(item),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }

  transition(grantId: string, from: GrantStatus, to: GrantStatus, patch?: TransitionPatch): Promise<Grant>;
  transition(
    grantId: string,
    from: GrantStatus,
    to: GrantStatus,
    patch: TransitionPatch,
    options: { record: false },
  ): Promise<unknown>;
  async transition(
    grantId: string,
    from: GrantStatus,
    to: GrantStatus,
    patch: TransitionPatch = {},
    options: { record?: boolean } = {},
  ): Promise<Grant | undefined> {
    if (!canTransition(from, to)) throw new TypeError(`transition ${from} -> ${to} is not allowed`);
    return this.write(grantId, from, { ...patch, status: to }, options.record !== false);
  }

  async update(grantId: string, status: GrantStatus, patch: TransitionPatch): Promise<Grant> {
    return (await this.write(grantId, status, patch, true))!;
  }

  /** `record`: whether to ask DynamoDB for the new item and return it (undefined otherwise). */
  private async write(
    grantId: string,
    expected: GrantStatus,
    patch: TransitionPatch & { status?: GrantStatus },
    record: boolean,
  ): Promise<Grant | undefined> {
    const names: Record<string, string> = { "#status": "status" };
    const values: Record<string, unknown> = { ":expected": expected };
    const set: string[] = [];
    const remove: string[] = [];
    let i = 0;
    const assign = (field: string, value: unknown) => {
      const n = `#f${i}`;
      const v = `:v${i++}`;
      names[n] = field;
      values[v] = value;
      set.push(`${n} = ${v}`);
    };
    const { dueAtMs, ...fields } = patch;
    for (const [k, v] of Object.entries(fields)) {
      if (v === null) {
        // A field set to null is removed from the item (a github token's ciphertext once it is deleted).
        names[`#f${i}`] = k;
        remove.push(`#f${i++}`);
      } else if (v !== undefined) assign(k, v);
    }
    if (dueAtMs === null) {
      remove.push("duePk", "dueSk");
    } else if (dueAtMs !== undefined) {
      const keys = this.dueKeys(grantId, dueAtMs);
      assign("duePk", keys.duePk);
      assign("dueSk", keys.dueSk);
    }
    // A status change carries a fresh write id, so a retry that finds the condition failed can tell its own
    // earlier attempt (whose answer was lost) from another writer's change.
    const writeId = patch.status ? randomUUID() : undefined;
    if (writeId) assign("writeId", writeId);
    if (patch.status && isFinal(patch.status)) {
      remove.push("livePk", "liveSk", "taskPk", "taskSk");
      // Finished grants are kept for the retention period, then DynamoDB's TTL removes them.
      assign("ttl", Math.floor(Date.now() / 1000) + this.grantTtlS);
    }
    // A patch may only remove (e.g. take a pruned grant off the due index): DynamoDB refuses an empty SET.
    const expression = [
      set.length > 0 ? `SET ${set.join(", ")}` : "",
      remove.length > 0 ? `REMOVE ${remove.join(", ")}` : "",
    ]
      .filter(Boolean)
      .join(" ");
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `GRANT#${grantId}`, sk: "GRANT" }),
          UpdateExpression: expression,
          ConditionExpression: "attribute_exists(pk) AND #status = :expected",
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: marshall(values),
          // Asking for nothing back spares DynamoDB, the SDK and the strict parse the whole item.
          ReturnValues: record ? "ALL_NEW" : "NONE",
        }),
      );
      return record ? grantFromItem(unmarshall(out.Attributes ?? {})) : undefined;
    } catch (err) {
      if (
        err instanceof ConditionalCheckFailedException ||
        (err as Error).name === "ConditionalCheckFailedException"
      ) {
        if (writeId) {
          const current = await this.client.send(
            new GetItemCommand({
              TableName: this.table,
              Key: marshall({ pk: `GRANT#${grantId}`, sk: "GRANT" }),
              ConsistentRead: true,
            }),
          );
          const item = current.Item ? unmarshall(current.Item) : undefined;
          if (item && item["writeId"] === writeId) return record ? grantFromItem(item) : undefined;
        }
        throw new TransitionConflict(grantId, expected);
      }
      throw err;
    }
  }

  async getGrant(grantId: string): Promise<Grant | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `GRANT#${grantId}`, sk: "GRANT" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    return out.Item ? grantFromItem(unmarshall(out.Item)) : undefined;
  }

  private async query(
    input: Omit<QueryCommandInput, "TableName">,
    cursor?: string,
    limit?: number,
  ): Promise<Page<Record<string, unknown>>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        ...input,
        ...(cursor ? { ExclusiveStartKey: decodeCursor(cursor) } : {}),
        ...(limit ? { Limit: limit } : {}),
      }),
    );
    this.onRead(out.ScannedCount ?? out.Count ?? 0);
    const page: Page<Record<string, unknown>> = { items: (out.Items ?? []).map((i) => unmarshall(i)) };
    const next = encodeCursor(out.LastEvaluatedKey);
    if (next) page.cursor = next;
    return page;
  }

  async listGrantsByWorkload(
    workload: string,
    options: { cursor?: string; limit?: number; before?: string } = {},
  ): Promise<Page<Grant>> {
    const page = await this.query(
      {
        IndexName: INDEX.byWorkload,
        KeyConditionExpression: options.before ? "gsi1pk = :pk AND gsi1sk < :before" : "gsi1pk = :pk",
        ExpressionAttributeValues: marshall({
          ":pk": `WG#${workload}`,
          ...(options.before ? { ":before": options.before } : {}),
        }),
        ScanIndexForward: false,
      },
      options.cursor,
      options.limit,
    );
    return { ...page, items: page.items.map(grantFromItem) };
  }

  async listLiveGrantsByWorkload(
    workload: string,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<Page<Grant>> {
    const page = await this.query(
      {
        IndexName: INDEX.live,
        KeyConditionExpression: "livePk = :pk",
        ExpressionAttributeValues: marshall({ ":pk": `LIVE#${workload}` }),
      },
      options.cursor,
      options.limit,
    );
    return { ...page, items: page.items.map(grantFromItem) };
  }

  async listGrants(
    options: { cursor?: string; limit?: number; status?: GrantStatus } = {},
  ): Promise<Page<Grant>> {
    // Admin listing across all workloads is the one place that reads the whole table; it is never on the
    // token path or in the sweep.
    const out = await this.client.send(
      new ScanCommand({
        TableName: this.table,
        FilterExpression: options.status ? "#type = :grant AND #status = :status" : "#type = :grant",
        ExpressionAttributeNames: options.status
          ? { "#type": "type", "#status": "status" }
          : { "#type": "type" },
        ExpressionAttributeValues: marshall(
          options.status ? { ":grant": "grant", ":status": options.status } : { ":grant": "grant" },
        ),
        ...(options.cursor ? { ExclusiveStartKey: decodeCursor(options.cursor) } : {}),
        ...(options.limit ? { Limit: options.limit } : {}),
      }),
    );
    this.onRead(out.ScannedCount ?? 0);
    const page: Page<Grant> = { items: (out.Items ?? []).map((i) => grantFromItem(unmarshall(i))) };
    const next = encodeCursor(out.LastEvaluatedKey);
    if (next) page.cursor = next;
    return page;
  }

  async listDue(
    shard: number,
    untilMs: number,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<Page<Grant>> {
    const page = await this.query(
      {
        IndexName: INDEX.due,
        KeyConditionExpression: "duePk = :pk AND dueSk <= :until",
        ExpressionAttributeValues: marshall({ ":pk": `DUE#${shard}`, ":until": `${pad(untilMs)}#~` }),
      },
      options.cursor,
      options.limit,
    );
    return { ...page, items: page.items.map(grantFromItem) };
  }

  async putAudit(event: AuditEvent): Promise<void> {
    const item = {
      ...auditKey(event, this.auditShards),
      type: "audit",
      ...event,
      ...(event.workload ? { gsi1pk: `WA#${event.workload}`, gsi1sk: `${event.time}#${event.eventId}` } : {}),
      // `credbroker audit --task` reads this key instead of filtering every event of the period.
      ...(event.task ? { livePk: `TA#${event.task}`, liveSk: `${event.time}#${event.eventId}` } : {}),
      ttl: Math.floor(Date.parse(event.time) / 1000) + this.auditTtlS,
    };
    await this.client.send(new PutItemCommand({ TableName: this.table, Item: marshall(item) }));
    if (this.clock && isLateAuditWrite(event.time, this.clock()))
      await this.governance.markLate(event.time.slice(0, 10));
  }

  async listAudit(options: {
    sinceMs: number;
    untilMs: number;
    workload?: string;
    task?: string;
    cursor?: string;
    limit?: number;
  }): Promise<Page<AuditEvent>> {
    const since = new Date(options.sinceMs).toISOString();
    const until = `${new Date(options.untilMs).toISOString()}~`;
    const toEvent = (i: Record<string, unknown>): AuditEvent => {
      const { pk, sk, type, gsi1pk, gsi1sk, livePk, liveSk, ttl, ...event } = i;
      return event as unknown as AuditEvent;
    };
    if (options.workload) {
      // Both given: the workload's key, narrowed to the task on the server.
      const page = await this.query(
        {
          IndexName: INDEX.byWorkload,
          KeyConditionExpression: "gsi1pk = :pk AND gsi1sk BETWEEN :since AND :until",
          ...(options.task
            ? { FilterExpression: "#task = :task", ExpressionAttributeNames: { "#task": "task" } }
            : {}),
          ExpressionAttributeValues: marshall({
            ":pk": `WA#${options.workload}`,
            ":since": since,
            ":until": until,
            ...(options.task ? { ":task": options.task } : {}),
          }),
        },
        options.cursor,
        options.limit,
      );
      return { ...page, items: page.items.map(toEvent) };
    }
    if (options.task) {
      const page = await this.query(
        {
          IndexName: INDEX.live,
          KeyConditionExpression: "livePk = :pk AND liveSk BETWEEN :since AND :until",
          ExpressionAttributeValues: marshall({
            ":pk": `TA#${options.task}`,
            ":since": since,
            ":until": until,
          }),
        },
        options.cursor,
        options.limit,
      );
      return { ...page, items: page.items.map(toEvent) };
    }
    const page = await readAuditPeriod((input) => this.queryAuditPartition(input), {
      sinceMs: options.sinceMs,
      untilMs: options.untilMs,
      shards: this.auditShards,
      ...(options.cursor ? { cursor: options.cursor } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
    });
    return { ...page, items: page.items.map(toEvent) };
  }

  private async queryAuditPartition({
    pk,
    since,
    until,
    afterSk,
    limit,
  }: Parameters<PartitionQuery>[0]): ReturnType<PartitionQuery> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :since AND :until",
        ExpressionAttributeValues: marshall({ ":pk": pk, ":since": since, ":until": until }),
        ...(afterSk !== undefined ? { ExclusiveStartKey: marshall({ pk, sk: afterSk }) } : {}),
        ...(limit ? { Limit: limit } : {}),
      }),
    );
    this.onRead(out.ScannedCount ?? out.Count ?? 0);
    const items = (out.Items ?? []).map((i) => unmarshall(i));
    return out.LastEvaluatedKey
      ? { items, lastSk: String(unmarshall(out.LastEvaluatedKey)["sk"]) }
      : { items };
  }

  // Sweep state and re-evaluation marks (docs/lifecycle.md):
  //   sweep state  pk=SWEEP#STATE  sk=STATE       revision (conditional writes), configVersion, digests, pass
  //   re-evaluate  pk=REEVALUATE   sk=<workload>  markedAtMs — one small partition, read once per sweep
  async oldestDue(shard: number, untilMs: number): Promise<number | undefined> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: INDEX.due,
        KeyConditionExpression: "duePk = :pk AND dueSk <= :until",
        ExpressionAttributeValues: marshall({ ":pk": `DUE#${shard}`, ":until": `${pad(untilMs)}#~` }),
        ProjectionExpression: "dueSk",
        Limit: 1,
      }),
    );
    this.onRead(out.ScannedCount ?? 0);
    const first = out.Items?.[0];
    return first ? Number(String(unmarshall(first)["dueSk"]).slice(0, 13)) : undefined;
  }

  async getSweepState(): Promise<SweepState | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: "SWEEP#STATE", sk: "STATE" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    if (!out.Item) return undefined;
    const { pk, sk, type, ...state } = unmarshall(out.Item);
    return sweepStateItemSchema.parse(state);
  }

  async putSweepState(
    state: Omit<SweepState, "revision">,
    expectedRevision: number | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: "SWEEP#STATE",
            sk: "STATE",
            type: "sweep-state",
            ...state,
            revision: (expectedRevision ?? 0) + 1,
          }),
          ConditionExpression:
            expectedRevision === undefined ? "attribute_not_exists(pk)" : "revision = :expected",
          ...(expectedRevision === undefined
            ? {}
            : { ExpressionAttributeValues: marshall({ ":expected": expectedRevision }) }),
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async markReevaluation(workload: string, nowMs: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({ pk: "REEVALUATE", sk: workload, type: "reevaluate", workload, markedAtMs: nowMs }),
      }),
    );
  }

  async listReevaluations(): Promise<ReevaluationMark[]> {
    const marks: ReevaluationMark[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.query(
        {
          KeyConditionExpression: "pk = :pk",
          ExpressionAttributeValues: marshall({ ":pk": "REEVALUATE" }),
          ConsistentRead: true,
        },
        cursor,
      );
      for (const i of page.items)
        marks.push({ workload: String(i["workload"]), markedAtMs: Number(i["markedAtMs"]) });
      cursor = page.cursor;
    } while (cursor);
    return marks;
  }

  async clearReevaluation(workload: string, markedAtMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.table,
          Key: marshall({ pk: "REEVALUATE", sk: workload }),
          ConditionExpression: "markedAtMs = :m",
          ExpressionAttributeValues: marshall({ ":m": markedAtMs }),
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async getSignals(workload: string): Promise<Record<string, string>> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `SIGNALS#${workload}`, sk: "SIGNALS" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    if (!out.Item) return {};
    return (unmarshall(out.Item)["signals"] as Record<string, string>) ?? {};
  }

  async setSignals(
    workload: string,
    signals: Record<string, string>,
    nowMs: number,
  ): Promise<Record<string, string>> {
    // Create the map if absent, then set each name: two single-item writes, each idempotent.
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `SIGNALS#${workload}`, sk: "SIGNALS" }),
        UpdateExpression: "SET signals = if_not_exists(signals, :empty), #type = :type, workload = :w",
        ExpressionAttributeNames: { "#type": "type" },
        ExpressionAttributeValues: marshall({ ":empty": {}, ":type": "signals", ":w": workload }),
      }),
    );
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":now": new Date(nowMs).toISOString() };
    const set = ["updatedAt = :now"];
    Object.entries(signals).forEach(([k, v], i) => {
      names[`#n${i}`] = k;
      values[`:v${i}`] = v;
      set.push(`signals.#n${i} = :v${i}`);
    });
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `SIGNALS#${workload}`, sk: "SIGNALS" }),
        UpdateExpression: `SET ${set.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: marshall(values),
        ReturnValues: "ALL_NEW",
      }),
    );
    return (unmarshall(out.Attributes ?? {})["signals"] as Record<string, string>) ?? {};
  }

  async clearSignals(workload: string, names: string[], nowMs: number): Promise<Record<string, string>> {
    const attrNames: Record<string, string> = {};
    names.forEach((n, i) => {
      attrNames[`#n${i}`] = n;
    });
    try {
      const out = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: marshall({ pk: `SIGNALS#${workload}`, sk: "SIGNALS" }),
          UpdateExpression: `SET updatedAt = :now REMOVE ${names.map((_, i) => `signals.#n${i}`).join(", ")}`,
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: attrNames,
          ExpressionAttributeValues: marshall({ ":now": new Date(nowMs).toISOString() }),
          ReturnValues: "ALL_NEW",
        }),
      );
      return (unmarshall(out.Attributes ?? {})["signals"] as Record<string, string>) ?? {};
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return {};
      throw err;
    }
  }
}
