// `credbroker policy impact` (CONTRACT §14) over a history recorded through the real token path: each
// proposal's counts are stated by hand and checked against a direct re-decision of every recorded input
// with the proposal's own Cedar authorizer; revokedOnDeploy is checked against a sweep that deploys it.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliError } from "../../lib/cli/errors.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { policyImpactCommand } from "../../lib/cli/policy-impact.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import { createWorkloadMatcher } from "../../lib/core/identity/workloads.ts";
import type { PolicyImpact } from "../../lib/core/impact/policy-impact.ts";
import { createAuthorizer } from "../../lib/core/policy/authorizer.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { buildDecidingDeps } from "../../lib/runtime/broker-deps.ts";
import { closeSharedDynamo, NOW, newStore, sharedDynamo } from "../support/broker.ts";
import {
  DEPLOYED_POLICIES,
  H,
  type History,
  impactConfig,
  iso,
  recordHistory,
  writeConfigDir,
} from "./history.ts";

let h: History;
/** A decision recorded before inputs were: no `input`. */
const LEGACY_DECISION = "legacy-decision-1";

beforeAll(async () => {
  h = await recordHistory();
  await h.broker.store.putAudit({
    eventId: "legacy-event-1",
    time: new Date(NOW - 12 * H).toISOString(),
    kind: "token",
    outcome: "issue",
    decisionId: LEGACY_DECISION,
    workload: "web-ci",
    task: "read-reports",
    policyIds: ["ci-reads-reports"],
  });
  // The deployed broker's sweep has run: it applied this config and expired the grants that ran out.
  await sweepDue(h.broker.deps);
}, 60_000);
afterAll(closeSharedDynamo);

function io(env: Record<string, string> = {}) {
  const out: string[] = [];
  const cli: CliIo = { out: (t) => out.push(t), err: () => {}, env };
  return { cli, text: () => out.join("") };
}

async function impact(newPath: string, extra: string[] = [], store = h.broker.store) {
  const o = io({ CREDBROKER_CONFIG: h.deployedPath });
  const result = await policyImpactCommand(
    ["--config", newPath, "--json", ...extra],
    o.cli,
    async () => store,
    () => NOW,
  );
  const printed = JSON.parse(o.text()) as PolicyImpact;
  expect(printed).toEqual(JSON.parse(JSON.stringify(result.impact)));
  return result;
}

const proposal = (policies: string, edit: (c: Record<string, unknown>) => void = () => {}) => {
  const raw = impactConfig(h.broker.issuer);
  edit(raw);
  return writeConfigDir(raw, policies);
};

/** Each recorded input decided directly with the proposal's authorizer: the counts impact must match. */
async function directly(newPath: string) {
  const resolved = await loadConfigFile(newPath);
  const authorizer = createAuthorizer(resolved.policies);
  const matcher = createWorkloadMatcher(resolved.config.workloads);
  const tasks = new Map(resolved.config.tasks.map((t) => [t.name, t]));
  const counts = { allowToDeny: 0, denyToAllow: 0, unchanged: 0 };
  const moved: AuditEvent[] = [];
  for (const e of h.events) {
    const input = e.input!;
    const w = matcher.match(input.issuer, input.subject);
    const task = tasks.get(input.task);
    const allowed =
      !!w &&
      !w.disabled &&
      !!task &&
      authorizer.decide({
        workload: { name: w.name, issuer: w.issuer, subject: input.subject },
        tags: input.tags,
        task: { name: task.name, provider: task.provider, sensitivity: task.sensitivity },
        context: {
          sourceIp: input.context.sourceIp,
          nowMs: input.context.now * 1000,
          durationSeconds: input.context.durationSeconds,
          purpose: input.context.purpose,
        },
      }).allowed;
    const to = allowed ? "allow" : "deny";
    if (to === input.decided) counts.unchanged++;
    else {
      moved.push(e);
      if (to === "deny") counts.allowToDeny++;
      else counts.denyToAllow++;
    }
  }
  return { counts, moved };
}

const decisionIds = (filter: (e: AuditEvent) => boolean) => h.events.filter(filter).map((e) => e.decisionId!);

describe("the recorded inputs", () => {
  it("records every token decision's input: tags as Cedar saw them, context and names, without per-token or omitted claims", () => {
    expect(h.events).toHaveLength(13);
    for (const e of h.events) expect(e.input).toBeDefined();
    const first = h.events[0]!;
    expect(first.input).toEqual({
      issuer: "test",
      subject: "repo:acme/web:ref:refs/heads/main",
      workload: "web-ci",
      task: "read-reports",
      tags: {
        iss: h.broker.issuer.issuer,
        aud: "credbroker",
        sub: "repo:acme/web:ref:refs/heads/main",
        repository: "acme/web",
      },
      omittedClaims: ["email"],
      context: {
        sourceIp: "127.0.0.1",
        now: Math.floor((NOW - 30 * H) / 1000),
        hourUtc: new Date(NOW - 30 * H).getUTCHours(),
        weekdayUtc: new Date(NOW - 30 * H).getUTCDay(),
        durationSeconds: 300,
        purpose: "",
      },
      decided: "allow",
    });
    const unregistered = h.events.find((e) => e.input?.subject.startsWith("repo:evil"))!;
    expect(unregistered.outcome).toBe("deny");
    expect(unregistered.input).toMatchObject({ decided: "deny", signalsRead: false, task: "read-reports" });
    expect(unregistered.input?.workload).toBeUndefined();
  });

  it("keeps tokens out of the table, and omitted and per-token claims out of the audit trail", async () => {
    const { client } = await sharedDynamo();
    const items = (await client.send(new ScanCommand({ TableName: h.broker.store["table"] as string })))
      .Items!;
    const all = JSON.stringify(items);
    for (const token of h.tokens) expect(all).not.toContain(token.split(".")[2]!);
    // Grant records keep their claims for the sweep's re-decision (docs/policy-impact.md); audit events
    // keep none that audit.omitClaims names, nor a token's jti.
    const audit = JSON.stringify(items.filter((i) => i["type"]?.S === "audit"));
    expect(audit).toContain('"input"');
    expect(audit).not.toMatch(/person\d+@acme\.test/);
    expect(audit).not.toContain("jti-");
  });
});

describe("policy impact of a proposal", () => {
  it("replays the deployed config itself as unchanged, with the legacy event not reproducible", async () => {
    const { impact: i, exitCode } = await impact(h.deployedPath, ["--fail-on-change"]);
    expect(i).toMatchObject({
      periodSince: new Date(NOW - 7 * 24 * H).toISOString(),
      periodUntil: new Date(NOW).toISOString(),
      decisions: 14,
      unchanged: 13,
      allowToDeny: 0,
      denyToAllow: 0,
      notReproducible: { count: 1, byReason: [{ reason: "no recorded input", count: 1 }] },
      changes: [],
      activeGrants: { revokedOnDeploy: [] },
      exceptions: { added: [], removed: [], expiringWithin14Days: [] },
    });
    expect(exitCode).toBe(0);
  });

  it("counts a forbid added as allow→deny for exactly that workload and task, with real decision ids", async () => {
    const path = await proposal(
      `${DEPLOYED_POLICIES}
@id("no-reports-job-reads")
forbid (principal == Workload::"reports-job", action, resource == Task::"read-reports");`,
    );
    const { impact: i, exitCode } = await impact(path, ["--fail-on-change"]);
    const direct = await directly(path);
    expect(direct.counts).toEqual({ allowToDeny: 2, denyToAllow: 0, unchanged: 11 });
    expect(i).toMatchObject({ decisions: 14, ...direct.counts, notReproducible: { count: 1 } });
    expect(i.changes).toEqual([
      {
        workload: "reports-job",
        task: "read-reports",
        from: "allow",
        to: "deny",
        count: 2,
        policiesNow: ["no-reports-job-reads"],
        samples: decisionIds((e) => e.workload === "reports-job" && e.task === "read-reports"),
        why: ["forbidden by no-reports-job-reads"],
      },
    ]);
    expect(i.changes[0]!.samples.sort()).toEqual(direct.moved.map((e) => e.decisionId).sort());
    expect(i.activeGrants.revokedOnDeploy).toEqual([]);
    expect(exitCode).toBe(3);
  });

  it("counts a permit widened as deny→allow, and a new exception as added and expiring", async () => {
    const path = await proposal(
      `${DEPLOYED_POLICIES}
@id("web-admin-exception")
@exception("SEC-10")
@expires("${iso(NOW + 10 * 24 * H)}")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"admin-api");`,
    );
    const { impact: i } = await impact(path);
    const direct = await directly(path);
    expect(direct.counts).toEqual({ allowToDeny: 0, denyToAllow: 2, unchanged: 11 });
    expect(i).toMatchObject(direct.counts);
    expect(i.changes).toEqual([
      {
        workload: "web-ci",
        task: "admin-api",
        from: "deny",
        to: "allow",
        count: 2,
        policiesNow: ["web-admin-exception"],
        samples: decisionIds((e) => e.task === "admin-api"),
        why: ["permitted by web-admin-exception"],
      },
    ]);
    expect(i.exceptions).toEqual({
      added: ["web-admin-exception"],
      removed: [],
      expiringWithin14Days: ["web-admin-exception"],
    });
  });

  it("counts a policy removed: its allows become denies that no policy decides", async () => {
    const path = await proposal(DEPLOYED_POLICIES.replace(/@id\("web-deploys-docs"\)[^;]*;/, ""));
    const { impact: i } = await impact(path);
    const direct = await directly(path);
    expect(direct.counts).toEqual({ allowToDeny: 2, denyToAllow: 0, unchanged: 11 });
    expect(i).toMatchObject(direct.counts);
    expect(i.changes).toEqual([
      expect.objectContaining({
        workload: "web-ci",
        task: "deploy-docs",
        from: "allow",
        to: "deny",
        count: 2,
        policiesNow: [],
        why: ["no policy permits this request"],
      }),
    ]);
  });

  it("decides a workload NEW removes as deny with why unregistered workload, never as not reproducible", async () => {
    const path = await proposal(DEPLOYED_POLICIES, (c) => {
      c["workloads"] = (c["workloads"] as { name: string }[]).filter((w) => w.name !== "reports-job");
    });
    const { impact: i } = await impact(path);
    const direct = await directly(path);
    // Its two allows become denies; its one deny stays a deny.
    expect(direct.counts).toEqual({ allowToDeny: 2, denyToAllow: 0, unchanged: 11 });
    expect(i).toMatchObject({ ...direct.counts, notReproducible: { count: 1 } });
    expect(i.changes).toEqual([
      expect.objectContaining({
        workload: "reports-job",
        task: "read-reports",
        count: 2,
        why: ["unregistered workload"],
      }),
    ]);
  });

  it("reports a policy that reads a claim audit.omitClaims left out as not decidable, never guessed", async () => {
    const path = await proposal(`${DEPLOYED_POLICIES}
@id("no-evil-mail")
forbid (principal, action, resource)
when { principal.hasTag("email") && principal.getTag("email") like "*@evil.test" };`);
    const { impact: i } = await impact(path);
    // Every request of a registered workload would now read the email claim; the unregistered one is
    // refused before any policy is asked, so it is still decided.
    expect(i).toMatchObject({
      decisions: 14,
      unchanged: 1,
      allowToDeny: 0,
      denyToAllow: 0,
      notReproducible: {
        count: 13,
        byReason: [
          { reason: "claim email omitted by audit.omitClaims", count: 12 },
          { reason: "no recorded input", count: 1 },
        ],
      },
    });
    expect(i.decisions).toBe(i.unchanged + i.allowToDeny + i.denyToAllow + i.notReproducible.count);
  });

  it("sets apart what the deployed config no longer reproduces (a workload renamed since)", async () => {
    const renamed = await proposal(DEPLOYED_POLICIES, (c) => {
      for (const w of c["workloads"] as { name: string }[]) if (w.name === "reports-job") w.name = "reports";
    });
    const { impact: i } = await impact(h.deployedPath, ["--deployed", renamed]);
    expect(i.notReproducible.byReason).toEqual([
      { reason: "workload reports-job renamed or removed since", count: 3 },
      { reason: "no recorded input", count: 1 },
    ]);
    expect(i).toMatchObject({ decisions: 14, unchanged: 10, allowToDeny: 0, denyToAllow: 0 });
  });
});

describe("active grants revoked on deploy", () => {
  it("names exactly the grants one sweep under NEW revokes (an exception expiring)", async () => {
    // The exception now lapses two hours ago: the batch request of three hours ago still stands, the one
    // a minute ago does not, and its live grant goes on deploy.
    const path = await proposal(DEPLOYED_POLICIES.replace(iso(NOW + 30 * 24 * H), iso(NOW - 2 * H)));
    const store = h.broker.store;
    const { impact: i, exitCode } = await impact(path, ["--fail-on-change"]);
    const direct = await directly(path);
    expect(direct.counts).toEqual({ allowToDeny: 1, denyToAllow: 0, unchanged: 12 });
    expect(i).toMatchObject(direct.counts);
    expect(i.changes).toEqual([
      expect.objectContaining({
        workload: "batch",
        task: "read-reports",
        count: 1,
        policiesNow: ["batch-exception"],
        why: ["exception batch-exception expired"],
      }),
    ]);
    expect(i.activeGrants.revokedOnDeploy).toHaveLength(1);
    expect(i.activeGrants.revokedOnDeploy[0]).toMatchObject({
      workload: "batch",
      task: "read-reports",
      why: "exception expired: batch-exception",
    });
    expect(exitCode).toBe(3);

    // Deploy NEW and let one sweep run: it revokes exactly those grants.
    const before = new Set((await store.listGrants({ status: "revoked" })).items.map((g) => g.grantId));
    const deployed = buildDecidingDeps(await loadConfigFile(path), { store, clock: fixedClock(NOW) });
    const summary = await sweepDue(deployed);
    expect(summary.complete).toBe(true);
    const revoked = (await store.listGrants({ status: "revoked" })).items
      .filter((g) => !before.has(g.grantId))
      .map((g) => ({ grantId: g.grantId, workload: g.workload, task: g.task, why: g.reason }));
    expect(revoked).toEqual(i.activeGrants.revokedOnDeploy);
  });
});

describe("bad input", () => {
  it("refuses a proposal that does not load with one line and exit 1", async () => {
    const path = await proposal("permit (principal, action, resource"); // unterminated
    const err = await policyImpactCommand(
      ["--config", path],
      io({ CREDBROKER_CONFIG: h.deployedPath }).cli,
      async () => h.broker.store,
      () => NOW,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(1);
    expect((err as CliError).message).toMatch(/^proposed config .* does not load: /);
    expect((err as CliError).message).not.toContain("\n");
  });

  it("says which config is missing when the deployed one is not given", async () => {
    const err = await policyImpactCommand(
      ["--config", h.deployedPath],
      io().cli,
      async () => h.broker.store,
      () => NOW,
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "CliError", exitCode: 2 });
    expect((err as Error).message).toBe("no deployed config: set CREDBROKER_CONFIG or pass --deployed FILE");
  });

  it("answers zeros for a period with no decisions, exit 0", async () => {
    const store = await newStore();
    const { impact: i, exitCode } = await impact(h.deployedPath, ["--fail-on-change"], store);
    expect(i).toMatchObject({
      decisions: 0,
      unchanged: 0,
      allowToDeny: 0,
      denyToAllow: 0,
      notReproducible: { count: 0, byReason: [] },
      changes: [],
      activeGrants: { revokedOnDeploy: [] },
    });
    expect(exitCode).toBe(0);
  });

  it("reads only the period asked for", async () => {
    const { impact: i } = await impact(h.deployedPath, [
      "--since",
      new Date(NOW - 150 * 60_000).toISOString(),
    ]);
    // The unregistered request (2 h ago) and the two of a minute ago.
    expect(i).toMatchObject({ decisions: 3, unchanged: 3 });
  });
});

describe("output for people and for CI", () => {
  it("prints a table by default and Markdown for a pull request", async () => {
    const path = await proposal(DEPLOYED_POLICIES.replace(/@id\("web-deploys-docs"\)[^;]*;/, ""));
    const run = async (args: string[]) => {
      const o = io({ CREDBROKER_CONFIG: h.deployedPath });
      await policyImpactCommand(
        ["--config", path, ...args],
        o.cli,
        async () => h.broker.store,
        () => NOW,
      );
      return o.text();
    };
    const text = await run([]);
    expect(text).toContain("14 decisions");
    expect(text).toMatch(/web-ci\s+deploy-docs\s+allow→deny\s+2/);
    expect(text).toContain("no recorded input");
    const markdown = await run(["--format", "markdown"]);
    expect(markdown).toContain("## Policy impact");
    expect(markdown).toContain("**This change would alter access.**");
    expect(markdown).toContain("| web-ci | deploy-docs | allow → deny | 2 |");
  });

  it("exits 1 with one line on stderr from the real CLI when NEW does not load", async () => {
    const { execFile } = await import("node:child_process");
    const path = await proposal("permit (principal, action, resource");
    const result = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ["bin/credbroker.js", "policy", "impact", "--config", path],
        { env: { ...process.env, CREDBROKER_CONFIG: h.deployedPath, CREDBROKER_TABLE: "unused" } },
        (error, stdout, stderr) => resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^credbroker: proposed config .* does not load: /);
  }, 60_000);
});
