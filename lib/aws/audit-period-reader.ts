// Reads the audit events of a period, oldest first, from the day partitions: the partitions of a day are
// queried side by side and merged on the sort key. The cursor keeps one position per partition, so a page
// may end anywhere and the next one resumes without repeating or skipping an event.
import { z } from "zod";
import { auditPartitionsOfDay } from "./audit-partitions.ts";

/** One Query on one partition key, sort key between the bounds, after `afterSk` (exclusive). */
export type PartitionQuery = (input: {
  pk: string;
  since: string;
  until: string;
  afterSk?: string;
  limit?: number;
}) => Promise<{ items: Record<string, unknown>[]; lastSk?: string }>;

const positionSchema = z.object({ after: z.string().optional(), done: z.literal(true).optional() }).strict();
type Position = z.infer<typeof positionSchema>;
const cursorSchema = z
  .object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), at: z.array(positionSchema) })
  .strict();
type PeriodCursor = z.infer<typeof cursorSchema>;

const encode = (c: PeriodCursor) => Buffer.from(JSON.stringify(c)).toString("base64url");

function decode(cursor: string, check: (c: PeriodCursor) => boolean): PeriodCursor {
  let parsed: ReturnType<typeof cursorSchema.safeParse>;
  try {
    parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw new TypeError("invalid cursor");
  }
  if (!parsed.success || !check(parsed.data)) throw new TypeError("invalid cursor");
  return parsed.data;
}

const nextDay = (day: string) =>
  new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const fresh = (n: number): Position[] => Array.from({ length: n }, () => ({}));

export async function readAuditPeriod(
  query: PartitionQuery,
  options: { sinceMs: number; untilMs: number; shards: number; cursor?: string; limit?: number },
): Promise<{ items: Record<string, unknown>[]; cursor?: string }> {
  const since = new Date(options.sinceMs).toISOString();
  const until = `${new Date(options.untilMs).toISOString()}~`;
  if (since > until) return { items: [] };
  const firstDay = since.slice(0, 10);
  const lastDay = until.slice(0, 10);
  const width = auditPartitionsOfDay(firstDay, options.shards).length;
  const start = options.cursor
    ? decode(
        options.cursor,
        (c) =>
          c.day >= firstDay &&
          c.day <= lastDay &&
          c.at.length === width &&
          // DynamoDB refuses a start key outside the key condition.
          c.at.every((p) => p.after === undefined || (p.after >= since && p.after <= until)),
      )
    : { day: firstDay, at: fresh(width) };
  let day = start.day;
  let at = start.at;
  const items: Record<string, unknown>[] = [];
  const limit = options.limit;

  for (;;) {
    if (at.every((p) => p.done)) {
      day = nextDay(day);
      at = fresh(width);
      if (day > lastDay) return { items };
    }
    if (limit !== undefined && items.length >= limit) return { items, cursor: encode({ day, at }) };

    const partitions = auditPartitionsOfDay(day, options.shards);
    const open = at.flatMap((p, i) => (p.done ? [] : [i]));
    const remaining = limit === undefined ? undefined : limit - items.length;
    // An even share per partition; a partition that had more is bounded below, so the merge stays exact
    // and the next round fetches the rest.
    const share = remaining === undefined ? undefined : Math.ceil(remaining / open.length);
    const results = await Promise.all(
      open.map(async (i) => {
        const after = at[i]!.after;
        const out = await query({
          pk: partitions[i]!,
          since,
          until,
          ...(after !== undefined ? { afterSk: after } : {}),
          ...(share !== undefined ? { limit: share } : {}),
        });
        return { i, ...out };
      }),
    );
    // A partition with more to read has returned nothing past its last key, but may still hold events
    // that sort before another partition's: the merge is only certain up to the lowest such key.
    let bound: string | undefined;
    for (const r of results)
      if (r.lastSk !== undefined && (bound === undefined || r.lastSk < bound)) bound = r.lastSk;
    const merged = results
      .flatMap((r) => r.items.map((item) => ({ i: r.i, sk: String(item["sk"]), item })))
      .filter((c) => bound === undefined || c.sk <= bound)
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
    const taken = remaining === undefined ? merged : merged.slice(0, remaining);
    const takenPer = new Map<number, number>();
    for (const c of taken) {
      items.push(c.item);
      at[c.i] = { after: c.sk };
      takenPer.set(c.i, (takenPer.get(c.i) ?? 0) + 1);
    }
    for (const r of results) {
      if ((takenPer.get(r.i) ?? 0) < r.items.length) continue;
      // Everything it returned is taken: finished if it had no more, else resume after its last key.
      at[r.i] = r.lastSk === undefined ? { done: true } : { after: r.lastSk };
    }
  }
}
