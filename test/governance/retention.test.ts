// Audit events are kept for the config's auditRetentionDays (DynamoDB TTL) and written as one JSON log
// line each, with the field names the documented CloudWatch Logs Insights queries use.
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_SHARDS, auditKey } from "../../lib/aws/audit-partitions.ts";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { marshall, unmarshall } from "../../lib/aws/marshall.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { configSchema } from "../../lib/config/schema.ts";
import { recordAudit } from "../../lib/core/audit-recorder.ts";
import { jsonLogger } from "../../lib/core/logger.ts";
import { closeSharedDynamo, NOW, sharedDynamo } from "../support/broker.ts";
import { event, SEED_CONFIG } from "./seed.ts";

afterAll(async () => {
  await closeSharedDynamo();
});

async function storeWith(auditRetentionDays?: number) {
  const { client } = await sharedDynamo();
  const tableName = `retention${auditRetentionDays ?? "default"}x${process.pid}`;
  await ensureTable(client, tableName);
  const store = new DynamoGrantStore({
    client,
    tableName,
    ...(auditRetentionDays ? { auditRetentionDays } : {}),
  });
  const ttlOf = async (time: string, eventId: string) => {
    const out = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: marshall(auditKey({ time, eventId }, AUDIT_SHARDS)),
      }),
    );
    return unmarshall(out.Item ?? {})["ttl"];
  };
  return { store, ttlOf };
}

describe("audit retention", () => {
  it("defaults to 400 days in the config", () => {
    expect(configSchema.parse(SEED_CONFIG).auditRetentionDays).toBe(400);
  });

  it.each([
    [undefined, 400],
    [30, 30],
  ])("stores each event with a TTL of its time plus %s days", async (days, expected) => {
    const { store, ttlOf } = await storeWith(days);
    const e = event(0, { outcome: "issue", workload: "web-ci", task: "read-reports" });
    await store.putAudit(e);
    expect(await ttlOf(e.time, e.eventId)).toBe(Math.floor(NOW / 1000) + expected * 86_400);
  });

  it("logs each event as one JSON line with the audit fields at audit.*", async () => {
    const lines: string[] = [];
    const { store } = await storeWith(7);
    const e = event(0, {
      outcome: "deny",
      workload: "web-ci",
      task: "deploy-web",
      reasons: ["forbidden by quarantine"],
      policyIds: ["quarantine"],
    });
    await recordAudit(
      store,
      jsonLogger((l) => lines.push(l)),
      e,
    );
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as { level: string; message: string; audit: Record<string, unknown> };
    expect(line).toMatchObject({ level: "info", message: "audit" });
    expect(line.audit).toMatchObject({
      outcome: "deny",
      workload: "web-ci",
      task: "deploy-web",
      policyIds: ["quarantine"],
      reasons: ["forbidden by quarantine"],
    });
  });
});
