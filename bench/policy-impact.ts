// policyImpactMs100k and policyImpactPeakRssMiB100k (CONTRACT §18): `credbroker policy impact --json` over
// 100,000 recorded decisions (7 days, 20 workloads, 10 tasks) with 100 policies, against dynalite. The
// events are built by the real DynamoGrantStore.putAudit (captured, then batch-written); the command runs in
// a child process of its own (bench/policy-impact-child.ts), so its peak RSS is the replay's, not the
// seeding's or dynalite's.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { AttributeValue, DynamoDBClient, PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import { DynamoGrantStore } from "../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../lib/aws/table-definition.ts";
import type { AuditEvent } from "../lib/core/audit.ts";
import { newId } from "../lib/core/ids.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { batchWrite } from "./seed.ts";

const WORKLOADS = 20;
const TASKS = 10;
const DAY = 86_400_000;
/** The old space of the second, capped run (MiB): far below what 100,000 decisions' events take. */
const CAPPED_OLD_SPACE_MIB = 64;

interface ChildResult {
  ms: number;
  peakRssMiB: number;
  rssBeforeMiB: number;
  decisions: number;
  allowToDeny: number;
}

/** 100 policies: a task-scoped permit per workload and task pair read by claims, plus unscoped forbids. */
function policies(extra = ""): string {
  const out: string[] = [];
  for (let i = 0; i < 90; i++)
    out.push(
      `@id("p${i}")\npermit (principal == Workload::"w${i % WORKLOADS}", action == Action::"issue", resource == Task::"t${i % TASKS}")\n` +
        `when { principal.hasTag("repository") && principal.getTag("repository") like "acme/*" && context.durationSeconds <= 900 };`,
    );
  for (let i = 0; i < 10; i++)
    out.push(
      `@id("f${i}")\nforbid (principal, action, resource)\nwhen { principal.hasTag("signal:s${i}") && principal.getTag("signal:s${i}") == "true" };`,
    );
  return `${out.join("\n\n")}\n${extra}`;
}

function config(): Record<string, unknown> {
  return {
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.test",
    issuers: [{ name: "t", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
    workloads: Array.from({ length: WORKLOADS }, (_, i) => ({
      name: `w${i}`,
      issuer: "t",
      subject: `repo:acme/r${i}:**`,
    })),
    tasks: Array.from({ length: TASKS }, (_, i) => ({
      name: `t${i}`,
      provider: "jwt",
      audience: `https://t${i}.test`,
      maxDurationSeconds: 900,
    })),
    policies: ["policies/*.cedar"],
  };
}

async function writeConfigDir(root: string, name: string, text: string): Promise<string> {
  const dir = join(root, name);
  const { mkdir } = await import("node:fs/promises");
  await mkdir(join(dir, "policies"), { recursive: true });
  await writeFile(join(dir, "policies", "all.cedar"), text);
  const path = join(dir, "broker.config.json");
  await writeFile(path, JSON.stringify(config()));
  return path;
}

/** The audit items putAudit would write for `count` token decisions spread over the last 7 days. */
async function auditItems(tableName: string, count: number, nowMs: number) {
  const items: Record<string, AttributeValue>[] = [];
  const capture = {
    send: async (command: { input: PutItemCommandInput }) => {
      items.push(command.input.Item!);
      return {};
    },
  } as unknown as DynamoDBClient;
  const store = new DynamoGrantStore({ client: capture, tableName });
  for (let k = 0; k < count; k++) {
    const at = nowMs - 7 * DAY + Math.floor(((k + 0.5) * 7 * DAY) / count);
    const w = k % WORKLOADS;
    const t = Math.floor(k / WORKLOADS) % TASKS;
    const subject = `repo:acme/r${w}:ref:refs/heads/main`;
    // Every workload is permitted one task of ten (p<i> pairs w<i % 20> with t<i % 10>): a tenth are allows.
    const allowed = t === w % TASKS;
    const when = new Date(at);
    const event: AuditEvent = {
      eventId: newId(at),
      time: when.toISOString(),
      kind: "token",
      outcome: allowed ? "issue" : "deny",
      decisionId: newId(at),
      workload: `w${w}`,
      subject,
      issuer: "t",
      task: `t${t}`,
      sourceIp: "10.1.2.3",
      input: {
        issuer: "t",
        subject,
        workload: `w${w}`,
        task: `t${t}`,
        tags: {
          iss: "https://issuer.test",
          aud: "credbroker",
          sub: subject,
          repository: `acme/r${w}`,
          ref: "refs/heads/main",
          workflow: "ci",
          run_id: String(k),
        },
        context: {
          sourceIp: "10.1.2.3",
          now: Math.floor(at / 1000),
          hourUtc: when.getUTCHours(),
          weekdayUtc: when.getUTCDay(),
          durationSeconds: 900,
          purpose: "",
        },
        decided: allowed ? "allow" : "deny",
      },
    };
    await store.putAudit(event);
  }
  return items;
}

export async function benchPolicyImpact(
  o: { decisions?: number; childNodeArgs?: string[] } = {},
): Promise<Record<string, number>> {
  const decisions = o.decisions ?? 100_000;
  const root = await mkdtemp(join(tmpdir(), "credbroker-bench-impact-"));
  const dynamo = await startLocalDynamo();
  try {
    const nowMs = Date.now();
    const deployed = await writeConfigDir(root, "deployed", policies());
    // The proposal forbids one workload one of its tasks: a twentieth of the allows move.
    const proposed = await writeConfigDir(
      root,
      "proposed",
      policies(`@id("f-new")\nforbid (principal == Workload::"w3", action, resource == Task::"t3");\n`),
    );
    const tableName = "impact-bench";
    await ensureTable(dynamo.client, tableName);
    const seedStarted = performance.now();
    await batchWrite(dynamo.client, tableName, await auditItems(tableName, decisions, nowMs));
    const seedMs = performance.now() - seedStarted;

    const child = join(dirname(fileURLToPath(import.meta.url)), "policy-impact-child.ts");
    const run = (nodeArgs: string[]) =>
      new Promise<ChildResult>((resolve, reject) => {
        const p = spawn(
          process.execPath,
          [...process.execArgv, ...nodeArgs, child, proposed, String(nowMs)],
          {
            env: {
              ...process.env,
              CREDBROKER_CONFIG: deployed,
              CREDBROKER_TABLE: tableName,
              AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
              AWS_REGION: "local",
            },
            stdio: ["ignore", "pipe", "inherit"],
          },
        );
        let out = "";
        p.stdout.on("data", (d) => {
          out += String(d);
        });
        p.on("error", reject);
        p.on("exit", (code) => {
          if (code !== 0) return reject(new Error(`policy impact child exited with ${code}`));
          const r = JSON.parse(out.trim().split("\n").at(-1)!) as ChildResult;
          if (r.decisions !== decisions)
            return reject(new Error(`policy impact read ${r.decisions} decisions of ${decisions}`));
          resolve(r);
        });
      });
    // With Node's defaults, then again over the same table with the old space capped: V8 lets a heap grow
    // far past what is live before it collects, so only the capped run shows what the replay must hold.
    const r = await run(o.childNodeArgs ?? []);
    const capped = await run([...(o.childNodeArgs ?? []), `--max-old-space-size=${CAPPED_OLD_SPACE_MIB}`]);
    return {
      policyImpactMs100k: Math.round(r.ms),
      policyImpactPeakRssMiB100k: Math.round(r.peakRssMiB),
      policyImpactRssBeforeMiB: Math.round(r.rssBeforeMiB),
      policyImpactDecisionsPerSecond: Math.round(decisions / (r.ms / 1000)),
      policyImpactAllowToDeny100k: r.allowToDeny,
      policyImpactMs100kOldSpace64: Math.round(capped.ms),
      policyImpactPeakRssMiB100kOldSpace64: Math.round(capped.peakRssMiB),
      policyImpactSeedMs100k: Math.round(seedMs),
      policyImpactDecisions: decisions,
    };
  } finally {
    await dynamo.close();
    await rm(root, { recursive: true, force: true });
  }
}
