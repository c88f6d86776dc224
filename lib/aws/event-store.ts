// EventStore on the broker's table (CONTRACT §13). Single-item conditional writes only, like the grant store:
//   delivery   pk=DELIVERY#<source>#<id>  sk=DELIVERY  state started|done, atMs, keepUntilMs, ttl
//   ended      pk=ENDED#<run>             sk=RUN | JOB#<job>  untilMs, ttl
//   access key pk=AKID#<accessKeyId>      sk=AKID      grantId, ttl
//   grants by task: gsi4 taskPk=TASK#<run> taskSk=<job or ->#<grantId>, written by createGrant
import {
  BatchGetItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import type { EventStore } from "../core/events/store.ts";
import type { TaskKey } from "../core/events/task-keys.ts";
import type { Grant } from "../core/grant.ts";
import type { Page } from "../core/store.ts";
import { grantFromItem } from "./grant-item.ts";
import { marshall, unmarshall } from "./marshall.ts";
import { TABLE_INDEXES } from "./table-definition.ts";

/** A claim older than this whose handler never finished (the process died) may be taken over. */
export const STALE_CLAIM_MS = 5 * 60_000;
const TASK_INDEX = TABLE_INDEXES[3].indexName;
const NO_JOB = "-";

/** The gsi4 keys a new grant carries when its token named a CI task. */
export function taskIndexKeys(grant: Pick<Grant, "taskRun" | "taskJob" | "grantId">): Record<string, string> {
  if (!grant.taskRun) return {};
  return { taskPk: `TASK#${grant.taskRun}`, taskSk: `${grant.taskJob ?? NO_JOB}#${grant.grantId}` };
}

const endedKey = (run: string, job: string | undefined) => ({
  pk: `ENDED#${run}`,
  sk: job === undefined ? "RUN" : `JOB#${job}`,
});

const ttlOf = (ms: number) => Math.floor(ms / 1000) + 86_400;

export class DynamoEventStore implements EventStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;

  constructor(options: { client: DynamoDBClient; tableName: string }) {
    this.client = options.client;
    this.table = options.tableName;
  }

  async claimDelivery(key: string, nowMs: number, keepMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            pk: `DELIVERY#${key}`,
            sk: "DELIVERY",
            type: "delivery",
            state: "started",
            atMs: nowMs,
            keepUntilMs: nowMs + keepMs,
            ttl: ttlOf(nowMs + keepMs),
          }),
          // New, or remembered no longer (TTL deletes late), or claimed by a process that never finished.
          ConditionExpression:
            "attribute_not_exists(pk) OR keepUntilMs < :now OR (#state = :started AND atMs < :stale)",
          ExpressionAttributeNames: { "#state": "state" },
          ExpressionAttributeValues: marshall({
            ":now": nowMs,
            ":started": "started",
            ":stale": nowMs - STALE_CLAIM_MS,
          }),
        }),
      );
      return true;
    } catch (err) {
      if ((err as Error).name === "ConditionalCheckFailedException") return false;
      throw err;
    }
  }

  async completeDelivery(key: string, nowMs: number, keepMs: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `DELIVERY#${key}`, sk: "DELIVERY" }),
        UpdateExpression: "SET #state = :done, keepUntilMs = :keep, #ttl = :ttl",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeNames: { "#state": "state", "#ttl": "ttl" },
        ExpressionAttributeValues: marshall({
          ":done": "done",
          ":keep": nowMs + keepMs,
          ":ttl": ttlOf(nowMs + keepMs),
        }),
      }),
    );
  }

  async releaseDelivery(key: string): Promise<void> {
    await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `DELIVERY#${key}`, sk: "DELIVERY" }),
        ConditionExpression: "#state = :started",
        ExpressionAttributeNames: { "#state": "state" },
        ExpressionAttributeValues: marshall({ ":started": "started" }),
      }),
    );
  }

  async listLiveGrantsByTask(run: string, job: string | undefined, cursor?: string): Promise<Page<Grant>> {
    const out = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: TASK_INDEX,
        KeyConditionExpression:
          job === undefined ? "taskPk = :pk" : "taskPk = :pk AND begins_with(taskSk, :job)",
        ExpressionAttributeValues: marshall({
          ":pk": `TASK#${run}`,
          ...(job === undefined ? {} : { ":job": `${job}#` }),
        }),
        ...(cursor
          ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) }
          : {}),
      }),
    );
    const page: Page<Grant> = { items: (out.Items ?? []).map((i) => grantFromItem(unmarshall(i))) };
    if (out.LastEvaluatedKey)
      page.cursor = Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString("base64url");
    return page;
  }

  async markTaskEnded(run: string, job: string | undefined, nowMs: number, untilMs: number): Promise<void> {
    // The later end wins: a redelivered or late event never shortens how long the task stays ended.
    await this.client
      .send(
        new PutItemCommand({
          TableName: this.table,
          Item: marshall({
            ...endedKey(run, job),
            type: "ended",
            endedAtMs: nowMs,
            untilMs,
            ttl: ttlOf(untilMs),
          }),
          ConditionExpression: "attribute_not_exists(pk) OR untilMs < :until",
          ExpressionAttributeValues: marshall({ ":until": untilMs }),
        }),
      )
      .catch((err: Error) => {
        if (err.name !== "ConditionalCheckFailedException") throw err;
      });
  }

  async isTaskEnded(key: TaskKey, nowMs: number): Promise<boolean> {
    const keys = [endedKey(key.run, undefined), ...(key.job ? [endedKey(key.run, key.job)] : [])];
    // The run's record and the job's in one round trip.
    const out = await this.client.send(
      new BatchGetItemCommand({
        RequestItems: {
          [this.table]: {
            Keys: keys.map((k) => marshall(k)),
            ConsistentRead: true,
            ProjectionExpression: "untilMs",
          },
        },
      }),
    );
    // A key DynamoDB left unread cannot be assumed not ended: fail closed (the caller answers 503).
    if (Object.keys(out.UnprocessedKeys ?? {}).length > 0) throw new Error("UnprocessedKeys");
    return (out.Responses?.[this.table] ?? []).some((i) => Number(unmarshall(i)["untilMs"]) > nowMs);
  }

  async grantIdByAccessKey(accessKeyId: string): Promise<string | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.table,
        Key: marshall({ pk: `AKID#${accessKeyId}`, sk: "AKID" }),
        ConsistentRead: true,
      }),
    );
    return out.Item ? String(unmarshall(out.Item)["grantId"]) : undefined;
  }

  async recordAccessKey(accessKeyId: string, grantId: string, expiresAtMs: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: marshall({
          pk: `AKID#${accessKeyId}`,
          sk: "AKID",
          type: "access-key",
          grantId,
          ttl: ttlOf(expiresAtMs),
        }),
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
  }
}
