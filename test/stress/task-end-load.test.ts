// Task end under load (CONTRACT §13): 500 active grants of 50 GitHub Actions runs (10 jobs each) on
// `credbroker dev`, then 1,000 concurrent signed deliveries, duplicates and ignored events among them: the
// completed runs' grants and the completed jobs' grants end, each exactly once, with one audit event each;
// no other grant ends; no answer is a 5xx.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevBroker } from "../../lib/local/dev-server.ts";
import {
  deliverGithub,
  type EventsDev,
  exchange,
  GITHUB_SECRET,
  GITHUB_SECRET_ENV,
  githubExample,
  newDeliveryId,
  pooledPost,
  startEventsDev,
} from "../events/support.ts";

const SUB = "repo:acme/web:ref:refs/heads/main";
const REPO_ID = 186853002;
const RUNS = 50;
const JOBS = 10;
const DELIVERIES = 1000;

let dev: DevBroker;
let world: EventsDev;

beforeAll(async () => {
  world = await startEventsDev({
    events: `  github:\n    secret: { env: ${GITHUB_SECRET_ENV} }\n    issuers: [dev]\n`,
    env: { [GITHUB_SECRET_ENV]: GITHUB_SECRET },
  });
  dev = world.dev;
});
afterAll(() => world?.close());

const runId = (r: number) => 7_000_000 + r;
const checkRun = (r: number, j: number) => 9_000_000 + r * 100 + j;

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

function jobPayload(r: number, j: number, action: string): Record<string, unknown> {
  const p = githubExample("workflow_job", "completed");
  p["action"] = action;
  (p["repository"] as { id: number }).id = REPO_ID;
  const job = p["workflow_job"] as Record<string, unknown>;
  job["run_id"] = runId(r);
  job["run_attempt"] = 1;
  job["check_run_url"] = `https://api.github.com/repos/acme/web/check-runs/${checkRun(r, j)}`;
  return p;
}

function runPayload(r: number): Record<string, unknown> {
  const p = githubExample("workflow_run", "completed");
  (p["repository"] as { id: number }).id = REPO_ID;
  const run = p["workflow_run"] as Record<string, unknown>;
  run["id"] = runId(r);
  run["run_attempt"] = 1;
  return p;
}

describe("1,000 concurrent deliveries against 500 active grants", () => {
  it("ends each grant of a completed job or run exactly once, and no other", async () => {
    const grants = new Map<string, { run: number; job: number }>();
    const slots = Array.from({ length: RUNS * JOBS }, (_, i) => ({
      run: Math.floor(i / JOBS),
      job: i % JOBS,
    }));
    await inBatches(slots, 25, async ({ run, job }) => {
      const issued = await exchange(
        dev,
        SUB,
        {
          repository: "acme/web",
          repository_id: String(REPO_ID),
          ref: "refs/heads/main",
          run_id: String(runId(run)),
          run_attempt: "1",
          check_run_id: String(checkRun(run, job)),
        },
        "read-reports",
      );
      expect(issued.status).toBe(200);
      grants.set(issued.body["grant_id"] as string, { run, job });
    });
    expect(grants.size).toBe(RUNS * JOBS);

    // Runs 0-19 complete; in runs 20-39 jobs 0-4 complete; runs 40-49 only report progress.
    const acting: { event: string; payload: Record<string, unknown>; id: string }[] = [];
    for (let r = 0; r < 20; r++)
      acting.push({ event: "workflow_run", payload: runPayload(r), id: newDeliveryId() });
    for (let r = 20; r < 40; r++)
      for (let j = 0; j < 5; j++)
        acting.push({ event: "workflow_job", payload: jobPayload(r, j, "completed"), id: newDeliveryId() });
    const ignored: typeof acting = [];
    for (let r = 40; r < 50; r++)
      for (let j = 0; j < JOBS; j++)
        ignored.push({
          event: "workflow_job",
          payload: jobPayload(r, j, "in_progress"),
          id: newDeliveryId(),
        });
    // Every acting delivery several times over (GitHub redelivers; a retry races the original), the rest
    // made of ignored events, shuffled by a fixed permutation.
    const all: typeof acting = [];
    for (let i = 0, a = 0, g = 0; all.length < DELIVERIES; i++)
      all.push(i % 3 === 2 ? ignored[g++ % ignored.length]! : acting[a++ % acting.length]!);
    const order = all.map((d, i) => ({ d, k: (i * 7919) % all.length })).sort((a, b) => a.k - b.k);

    // All 1,000 in flight at once, over at most 200 connections (the listen backlog would drop the rest,
    // and GitHub does not open a connection per delivery either).
    const post = pooledPost(200);
    const answers = await Promise.all(
      order.map(({ d }) => deliverGithub(dev, d.event, d.payload, { id: d.id, post })),
    ).finally(() => post.close());
    expect(answers.filter((a) => a.status >= 500)).toEqual([]);
    expect(answers.filter((a) => a.body["duplicate"] === true).length).toBeGreaterThan(0);
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200, 202]));

    const shouldEnd = [...grants]
      .filter(([, g]) => g.run < 20 || (g.run < 40 && g.job < 5))
      .map(([id]) => id);
    const reported = answers.flatMap((a) => (a.body["grants"] as string[] | undefined) ?? []);
    // Each ended grant is reported by exactly one answer.
    expect(reported.length).toBe(shouldEnd.length);
    expect(new Set(reported)).toEqual(new Set(shouldEnd));

    for (const [id] of grants) {
      const grant = await dev.deps.store.getGrant(id);
      expect(grant?.status, id).toBe(shouldEnd.includes(id) ? "revoked" : "active");
    }
    const audit: { grantId?: string; kind: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await dev.deps.store.listAudit({
        sinceMs: Date.now() - 3_600_000,
        untilMs: Date.now() + 60_000,
        ...(cursor ? { cursor } : {}),
      });
      audit.push(...page.items);
      cursor = page.cursor;
    } while (cursor);
    const ends = audit.filter((e) => e.kind === "event" && e.grantId).map((e) => e.grantId!);
    expect(ends.length).toBe(shouldEnd.length);
    expect(new Set(ends)).toEqual(new Set(shouldEnd));
  });
});
