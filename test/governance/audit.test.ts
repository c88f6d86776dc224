// `credbroker audit`: filters by outcome group, workload and task read by key, and --follow printing
// each new event once until it is stopped.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { auditCommand, outcomesFor } from "../../lib/cli/audit.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { signalsCommand } from "../../lib/cli/signals.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { closeSharedDynamo, createTestBroker, NOW, newStore } from "../support/broker.ts";
import { capture } from "./capture.ts";
import { event, seedStore } from "./seed.ts";

let store: DynamoGrantStore;
let reads = 0;
const since = new Date(NOW - 30 * 86_400_000).toISOString();

async function audit(args: string[]): Promise<AuditEvent[]> {
  const io = capture();
  await auditCommand([...args, "--since", since, "--json"], io, async () => store, { now: () => NOW });
  return JSON.parse(io.stdout()) as AuditEvent[];
}

beforeAll(async () => {
  store = await newStore({
    onRead: (n) => {
      reads += n;
    },
  });
  await seedStore(store);
});

afterAll(async () => {
  await closeSharedDynamo();
});

describe("credbroker audit", () => {
  it.each([
    ["allow", ["issue"], 6],
    ["deny", ["deny"], 7],
    ["revoke", ["release", "revoke"], 4],
    ["expire", ["expire"], 2],
    ["fail", ["fail"], 1],
    ["deny,expire", ["deny", "expire"], 9],
  ])("--outcome %s returns the stored outcomes %j", async (flag, outcomes, count) => {
    const events = await audit(["--outcome", flag]);
    expect(events).toHaveLength(count);
    expect([...new Set(events.map((e) => e.outcome))].sort()).toEqual(outcomes);
  });

  it("refuses an unknown outcome with the accepted words", async () => {
    expect(() => outcomesFor("granted")).toThrow(CliError);
    expect(() => outcomesFor("granted")).toThrow(/allow, deny, revoke, expire/);
  });

  it("reads a task's events by key, not by filtering the period", async () => {
    reads = 0;
    const events = await audit(["--task", "deploy-web"]);
    expect(events).toHaveLength(7);
    expect(events.every((e) => e.task === "deploy-web")).toBe(true);
    expect(reads).toBe(7);
  });

  it("narrows a workload's events to one task and outcome", async () => {
    const events = await audit(["--workload", "web-ci", "--task", "read-reports", "--outcome", "allow"]);
    expect(events.map((e) => [e.workload, e.task, e.outcome])).toEqual([
      ["web-ci", "read-reports", "issue"],
      ["web-ci", "read-reports", "issue"],
      ["web-ci", "read-reports", "issue"],
    ]);
  });

  it("lists oldest first and honours --limit", async () => {
    const events = await audit(["--limit", "3"]);
    expect(events).toHaveLength(3);
    expect(events.map((e) => e.time)).toEqual([...events.map((e) => e.time)].sort());
  });

  it("prints a readable table", async () => {
    const io = capture();
    await auditCommand(
      ["--since", since, "--outcome", "deny", "--workload", "web-ci"],
      io,
      async () => store,
      { now: () => NOW },
    );
    const lines = io.stdout().trimEnd().split("\n");
    expect(lines[0]).toMatch(/^TIME\s+OUTCOME\s+WORKLOAD\s+TASK\s+GRANT\s+DECISION\s+WHY$/);
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/deny\s+web-ci\s+read-reports\s+policy_denied: no policy permits this request$/);
  });
});

describe("credbroker audit --outcome change", () => {
  it("selects the signal changes that signals set and clear recorded, and nothing else", async () => {
    const broker = await createTestBroker();
    const res = await broker.exchange(await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW }));
    expect(res.status).toBe(200);
    await signalsCommand(["set", "web-ci", "quarantined=true"], capture(), async () => broker.deps);
    broker.clock.advance(1_000);
    await signalsCommand(["clear", "web-ci", "quarantined"], capture(), async () => broker.deps);

    const io = capture();
    await auditCommand(
      ["--workload", "web-ci", "--outcome", "change", "--json"],
      io,
      async () => broker.store,
      {
        now: () => NOW + 2_000,
      },
    );
    const events = JSON.parse(io.stdout()) as AuditEvent[];
    expect(events.map((e) => [e.kind, e.outcome, e.workload, e.reasons])).toEqual([
      ["signal", "change", "web-ci", ["set quarantined=true"]],
      ["signal", "change", "web-ci", ["cleared quarantined"]],
    ]);
  });
});

describe("credbroker audit --follow", () => {
  it("prints the recent events, then each new one once, until stopped", async () => {
    const followStore = await newStore();
    const first = event(2, { outcome: "issue", workload: "web-ci", task: "read-reports", grantId: "g1" });
    await followStore.putAudit(first);
    let now = NOW;
    let polls = 0;
    const controller = new AbortController();
    const io = capture();
    await auditCommand(["--follow", "--json", "--interval", "1"], io, async () => followStore, {
      now: () => now,
      signal: controller.signal,
      sleep: async () => {
        polls++;
        now += 1000;
        // New events arrive between polls: one now, one written late with a time before the last poll.
        if (polls === 1)
          await followStore.putAudit({
            ...event(0, { outcome: "deny", workload: "web-ci", task: "deploy-web" }),
            time: new Date(now - 500).toISOString(),
          });
        if (polls === 2)
          await followStore.putAudit({
            ...event(0, { outcome: "release", workload: "web-ci", task: "read-reports" }),
            time: new Date(NOW - 30_000).toISOString(),
          });
        if (polls === 3) controller.abort();
      },
    });
    const printed = io
      .stdout()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(printed.map((e) => e.outcome)).toEqual(["issue", "deny", "release"]);
    expect(new Set(printed.map((e) => e.eventId)).size).toBe(3);
    expect(polls).toBe(3);
  });

  it("refuses --until and --limit with --follow", async () => {
    await expect(
      auditCommand(["--follow", "--limit", "5"], capture(), async () => store),
    ).rejects.toMatchObject({ exitCode: 2 });
  });

  it("returns every match without --since: events from months ago included", async () => {
    await store.putAudit({
      ...event(200 * 24 * 60, { outcome: "deny", workload: "web-ci", task: "deploy-web" }),
      eventId: "old-one",
    });
    const io = capture();
    await auditCommand(["--workload", "web-ci", "--json"], io, async () => store, { now: () => NOW });
    const events = JSON.parse(io.stdout()) as AuditEvent[];
    expect(events.map((e) => e.eventId)).toContain("old-one");
  });
});

describe("credbroker audit without --since", () => {
  it("reads the last 7 days across all workloads and says so, leaving older events out", async () => {
    const own = await newStore();
    await own.putAudit({
      ...event(10 * 24 * 60, { outcome: "deny", workload: "web-ci" }),
      eventId: "ten-days",
    });
    await own.putAudit({
      ...event(6 * 24 * 60, { outcome: "deny", workload: "web-ci" }),
      eventId: "six-days",
    });
    await own.putAudit({ ...event(5, { outcome: "issue", workload: "web-ci" }), eventId: "just-now" });
    const io = capture();
    await auditCommand(["--json"], io, async () => own, { now: () => NOW });
    expect((JSON.parse(io.stdout()) as AuditEvent[]).map((e) => e.eventId)).toEqual(["six-days", "just-now"]);
    expect(io.stderr()).toBe(
      `audit: the last 7 days, since ${new Date(NOW - 7 * 86_400_000).toISOString()} (--since ISO for earlier events)\n`,
    );
  });
});
