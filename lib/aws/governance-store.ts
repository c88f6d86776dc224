// GovernanceStore on the broker's one table (single-item conditional writes only, as on dynalite):
//   day summary  pk=DAYSUM#<yyyy-mm>  sk=<yyyy-mm-dd>  summary (JSON text), version, late, coveredLate, ttl
//   sweep run    pk=SWEEP#RUN         sk=LAST          the last run's time, lag, errors
// A month of summaries is one partition, so a 30-day report reads its closed days with one or two Queries.
// `late` is added to by audit writes that land after their day closed (markLate); a summary is current
// while `coveredLate` equals it, and is rewritten only over the item it was computed after.
import {
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { GovernanceStore, StoredDay, SweepRun } from "../core/report/governance-store.ts";
import { marshall, unmarshall } from "./marshall.ts";

const DAY_S = 86_400;
/** DynamoDB's item limit is 400 KB; a larger summary is not stored and its day is read from events. */
const MAX_SUMMARY_BYTES = 350_000;
const monthPk = (day: string) => `DAYSUM#${day.slice(0, 7)}`;
const isConditionalFailure = (err: unknown) => (err as Error).name === "ConditionalCheckFailedException";

const sweepRunSchema = z
  .object({
    startedAt: z.string(),
    finishedAt: z.string(),
    complete: z.boolean(),
    errors: z.number().int().min(0),
    oldestDueAgeSeconds: z.number().min(0).optional(),
    expired: z.number().int().min(0),
    revoked: z.number().int().min(0),
    daySummaries: z.number().int().min(0),
  })
  .strict();

function months(firstDay: string, lastDay: string): string[] {
  const out: string[] = [];
  let [y, m] = firstDay.slice(0, 7).split("-").map(Number) as [number, number];
  const last = lastDay.slice(0, 7);
  for (;;) {
    const key = `${y}-${String(m).padStart(2, "0")}`;
    if (key > last) return out;
    out.push(key);
    m++;
    if (m > 12) {
      m = 1;
      y++;
    }
  }
}

export interface DynamoGovernanceStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  /** Summaries are kept as long as the audit events they count. */
  retentionDays: number;
  onRead?: (items: number) => void;
}

export class DynamoGovernanceStore implements GovernanceStore {
  private readonly onRead: (n: number) => void;
  constructor(private readonly options: DynamoGovernanceStoreOptions) {
    this.onRead = options.onRead ?? (() => {});
  }

  private ttl(day: string): number {
    return Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + DAY_S + this.options.retentionDays * DAY_S;
  }

  async getDays(firstDay: string, lastDay: string): Promise<Map<string, StoredDay>> {
    const out = new Map<string, StoredDay>();
    if (firstDay > lastDay) return out;
    await Promise.all(
      months(firstDay, lastDay).map(async (month) => {
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.options.client.send(
            new QueryCommand({
              TableName: this.options.tableName,
              KeyConditionExpression: "pk = :pk AND sk BETWEEN :a AND :b",
              ExpressionAttributeValues: marshall({
                ":pk": `DAYSUM#${month}`,
                ":a": firstDay,
                ":b": lastDay,
              }),
              ConsistentRead: true,
              ...(start ? { ExclusiveStartKey: marshall(start) } : {}),
            }),
          );
          this.onRead(page.ScannedCount ?? page.Count ?? 0);
          for (const raw of page.Items ?? []) {
            const i = unmarshall(raw);
            out.set(String(i["sk"]), {
              ...(typeof i["summary"] === "string" ? { summary: JSON.parse(i["summary"]) } : {}),
              late: Number(i["late"] ?? 0),
              coveredLate: Number(i["coveredLate"] ?? 0),
            });
          }
          start = page.LastEvaluatedKey ? unmarshall(page.LastEvaluatedKey) : undefined;
        } while (start);
      }),
    );
    return out;
  }

  async putDaySummary(day: string, summary: unknown, seen: StoredDay | undefined): Promise<boolean> {
    const text = JSON.stringify(summary);
    if (Buffer.byteLength(text) > MAX_SUMMARY_BYTES) return false;
    const late = seen?.late ?? 0;
    const condition = !seen
      ? "attribute_not_exists(pk)"
      : late === 0
        ? "attribute_exists(pk) AND (attribute_not_exists(#late) OR #late = :late)"
        : "attribute_exists(pk) AND #late = :late";
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: marshall({
            pk: monthPk(day),
            sk: day,
            type: "day-summary",
            summary: text,
            late,
            coveredLate: late,
            ttl: this.ttl(day),
          }),
          ConditionExpression: condition,
          ...(seen
            ? {
                ExpressionAttributeNames: { "#late": "late" },
                ExpressionAttributeValues: marshall({ ":late": late }),
              }
            : {}),
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalFailure(err)) return false;
      throw err;
    }
  }

  /** Records an audit event that landed after its day closed: the day's summary no longer covers it. */
  async markLate(day: string): Promise<void> {
    await this.options.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ pk: monthPk(day), sk: day }),
        UpdateExpression: "ADD #late :one SET #type = :type, #ttl = if_not_exists(#ttl, :ttl)",
        ExpressionAttributeNames: { "#late": "late", "#type": "type", "#ttl": "ttl" },
        ExpressionAttributeValues: marshall({ ":one": 1, ":type": "day-summary", ":ttl": this.ttl(day) }),
      }),
    );
  }

  async putSweepRun(run: SweepRun): Promise<void> {
    try {
      await this.options.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: marshall({ pk: "SWEEP#RUN", sk: "LAST", type: "sweep-run", ...run }),
          // Concurrent sweeps: the one that started last is the last run.
          ConditionExpression: "attribute_not_exists(pk) OR startedAt <= :started",
          ExpressionAttributeValues: marshall({ ":started": run.startedAt }),
        }),
      );
    } catch (err) {
      if (!isConditionalFailure(err)) throw err;
    }
  }

  async getSweepRun(): Promise<SweepRun | undefined> {
    const out = await this.options.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: marshall({ pk: "SWEEP#RUN", sk: "LAST" }),
        ConsistentRead: true,
      }),
    );
    this.onRead(out.Item ? 1 : 0);
    if (!out.Item) return undefined;
    const { pk, sk, type, ...run } = unmarshall(out.Item);
    return sweepRunSchema.parse(run);
  }
}
