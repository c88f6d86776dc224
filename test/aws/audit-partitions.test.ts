// Audit events of a day are spread over several partition keys, and every period read merges them back
// into time order: across day boundaries, page by page with any limit, while new events keep arriving.
import { PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_SHARDS, auditShardOf } from "../../lib/aws/audit-partitions.ts";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { marshall, unmarshall } from "../../lib/aws/marshall.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { auditCommand } from "../../lib/cli/audit.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo, NOW, sharedDynamo } from "../support/broker.ts";

afterAll(async () => {
  await closeSharedDynamo();
});

const HOUR = 3_600_000;
let tables = 0;

async function freshStore(options: { auditShards?: number; onRead?: (n: number) => void } = {}) {
  const { client } = await sharedDynamo();
  const tableName = `auditshards${process.pid}x${++tables}`;
  await ensureTable(client, tableName);
  return { client, tableName, store: new DynamoGrantStore({ client, tableName, ...options }) };
}

let ids = 0;
const at = (ms: number, e: Partial<AuditEvent> = {}): AuditEvent => ({
  eventId: `e${String(++ids).padStart(5, "0")}`,
  time: new Date(ms).toISOString(),
  kind: "token",
  outcome: "issue",
  workload: "web-ci",
  ...e,
});
const order = (events: AuditEvent[]) =>
  [...events].sort((a, b) => a.time.localeCompare(b.time) || a.eventId.localeCompare(b.eventId));

/** 60 events over three UTC days, some on the same millisecond, some either side of midnight. */
function spread(): AuditEvent[] {
  const midnight = Date.parse("2026-12-01T00:00:00Z");
  const events: AuditEvent[] = [];
  for (let i = 0; i < 20; i++) events.push(at(midnight - 20 * HOUR + i * 997));
  for (let i = 0; i < 10; i++) events.push(at(midnight - 1 - (i % 3)));
  for (let i = 0; i < 10; i++) events.push(at(midnight + (i % 4)));
  for (let i = 0; i < 20; i++) events.push(at(midnight + 30 * HOUR + i * 60_000));
  return events;
}

async function pageAll(store: DynamoGrantStore, sinceMs: number, untilMs: number, limit: number) {
  const pages: AuditEvent[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.listAudit({ sinceMs, untilMs, limit, ...(cursor ? { cursor } : {}) });
    pages.push(page.items);
    cursor = page.cursor;
    expect(pages.length).toBeLessThan(500);
  } while (cursor);
  return pages;
}

describe("audit day partitions", () => {
  it("spreads one day's writes over several partition keys, none on the old single day key", async () => {
    const { client, tableName, store } = await freshStore();
    const day = "2026-11-30";
    for (let i = 0; i < 40; i++) await store.putAudit(at(NOW + i * 1000));
    // Read the raw items as stored, independently of the code that chose their keys.
    const out = await client.send(new ScanCommand({ TableName: tableName }));
    const keys = (out.Items ?? []).map((i) => String(unmarshall(i)["pk"]));
    expect(keys).toHaveLength(40);
    const distinct = new Set(keys);
    expect(distinct.size).toBeGreaterThan(1);
    expect(distinct.size).toBeLessThanOrEqual(AUDIT_SHARDS);
    for (const k of distinct) expect(k).toMatch(new RegExp(`^AUDIT#${day}#[0-${AUDIT_SHARDS - 1}]$`));
  });

  it("reads a period back in time order across shards and day boundaries", async () => {
    const { store } = await freshStore();
    const events = spread();
    for (const e of [...events].reverse()) await store.putAudit(e);
    const sinceMs = Date.parse("2026-11-29T00:00:00Z");
    const untilMs = Date.parse("2026-12-03T00:00:00Z");
    const page = await store.listAudit({ sinceMs, untilMs });
    expect(page.cursor).toBeUndefined();
    expect(page.items.map((e) => e.eventId)).toEqual(order(events).map((e) => e.eventId));
    expect(page.items[0]).toEqual(order(events)[0]);
  });

  it("keeps to the period's bounds, to the millisecond", async () => {
    const { store } = await freshStore();
    const events = spread();
    for (const e of events) await store.putAudit(e);
    const sorted = order(events);
    const sinceMs = Date.parse(sorted[5]!.time);
    const untilMs = Date.parse(sorted[50]!.time);
    const expected = sorted.filter((e) => e.time >= sorted[5]!.time && e.time <= sorted[50]!.time);
    const page = await store.listAudit({ sinceMs, untilMs });
    expect(page.items.map((e) => e.eventId)).toEqual(expected.map((e) => e.eventId));
    expect((await pageAll(store, sinceMs, untilMs, 4)).flat().map((e) => e.eventId)).toEqual(
      expected.map((e) => e.eventId),
    );
  });

  it.each([1, 2, 3, 7, 16, 59, 60, 100])(
    "pages with limit %i: every event once, in order, no page over the limit",
    async (limit) => {
      const { store } = await freshStore();
      const events = spread();
      for (const e of events) await store.putAudit(e);
      const pages = await pageAll(
        store,
        Date.parse("2026-11-29T00:00:00Z"),
        Date.parse("2026-12-03T00:00:00Z"),
        limit,
      );
      expect(pages.every((p) => p.length <= limit)).toBe(true);
      // Only the last page may come up short: a short page with a cursor would make callers read in vain.
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.flat().map((e) => e.eventId)).toEqual(order(events).map((e) => e.eventId));
    },
  );

  it("reads events that versions before the split stored on the single day key", async () => {
    const { client, tableName, store } = await freshStore();
    const fresh = [at(NOW + 1000), at(NOW + 3000), at(NOW + 5000)];
    const old = [at(NOW), at(NOW + 2000), at(NOW + 4000)];
    for (const e of fresh) await store.putAudit(e);
    for (const e of old)
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: marshall({
            pk: `AUDIT#${e.time.slice(0, 10)}`,
            sk: `${e.time}#${e.eventId}`,
            type: "audit",
            ...e,
          }),
        }),
      );
    const pages = await pageAll(store, NOW - HOUR, NOW + HOUR, 2);
    expect(pages.flat().map((e) => e.eventId)).toEqual(order([...fresh, ...old]).map((e) => e.eventId));
  });

  it("still finds every event after the shard count grows", async () => {
    const { client, tableName, store: writer } = await freshStore({ auditShards: 3 });
    const events = spread();
    for (const e of events) await writer.putAudit(e);
    const reader = new DynamoGrantStore({ client, tableName, auditShards: 16 });
    const page = await reader.listAudit({ sinceMs: NOW - 3 * 24 * HOUR, untilMs: NOW + 3 * 24 * HOUR });
    expect(page.items.map((e) => e.eventId)).toEqual(order(events).map((e) => e.eventId));
  });

  it("reads each event once when no limit is given", async () => {
    let reads = 0;
    const { store } = await freshStore({ onRead: (n) => (reads += n) });
    const events = spread();
    for (const e of events) await store.putAudit(e);
    await store.listAudit({ sinceMs: NOW - 3 * 24 * HOUR, untilMs: NOW + 3 * 24 * HOUR });
    expect(reads).toBe(events.length);
  });

  it.each([
    ["not base64 JSON", "%%%"],
    ["another shape", Buffer.from(JSON.stringify({ day: "2026-11-30", key: "x" })).toString("base64url")],
    [
      "a day outside the period",
      Buffer.from(JSON.stringify({ day: "2025-01-01", at: Array(AUDIT_SHARDS + 1).fill({}) })).toString(
        "base64url",
      ),
    ],
    [
      "another shard count",
      Buffer.from(JSON.stringify({ day: "2026-11-30", at: [{}, {}] })).toString("base64url"),
    ],
  ])("refuses a cursor that is %s", async (_, cursor) => {
    const { store } = await freshStore();
    await expect(store.listAudit({ sinceMs: NOW - HOUR, untilMs: NOW + HOUR, cursor })).rejects.toThrow(
      "invalid cursor",
    );
  });

  it("lets --follow print each new event once while they land on different shards", async () => {
    const { store } = await freshStore();
    const first = at(NOW - 1000);
    await store.putAudit(first);
    let now = NOW;
    let polls = 0;
    const written: AuditEvent[] = [first];
    const controller = new AbortController();
    const io = capture();
    await auditCommand(["--follow", "--json", "--interval", "1"], io, async () => store, {
      now: () => now,
      signal: controller.signal,
      sleep: async () => {
        polls++;
        now += 1000;
        if (polls === 4) return controller.abort();
        // A burst per poll, some stamped before the previous poll (stored late).
        for (let i = 0; i < 12; i++) {
          const e = at(now - 1500 + i * 100);
          written.push(e);
          await store.putAudit(e);
        }
      },
    });
    const printed = io
      .stdout()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(printed.map((e) => e.eventId).sort()).toEqual(written.map((e) => e.eventId).sort());
    expect(new Set(printed.map((e) => e.eventId)).size).toBe(written.length);
    expect(new Set(written.map((e) => auditShardOf(e.eventId, AUDIT_SHARDS))).size).toBeGreaterThan(1);
  });
});
