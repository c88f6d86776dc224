// CONTRACT §17: a config that loaded under a release loads under the next. The demo and docs configs of
// every earlier release live here as they were (taken from git history), and each run loads, validates and
// decides them; a config with a global network forbid, the one issue 27 found broken, does so with and
// without approvals, and with approvals the same forbid refuses an approver it matches.
import { readdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policyTestCommand } from "../../lib/cli/policy-test.ts";
import { loadConfigFile } from "../../lib/config/load.ts";
import { createAuthorizer } from "../../lib/core/policy/authorizer.ts";
import { APPROVE_POLICIES, type ApprovalBroker, createApprovalBroker } from "../approvals/support.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo } from "../support/broker.ts";

const here = dirname(fileURLToPath(import.meta.url));

function configsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === "policies" ? [] : configsUnder(path);
    return /(^broker|\.config)\.yaml$/.test(name) ? [path] : [];
  });
}

const configs = configsUnder(here).map((p) => relative(here, p));
const releases = readdirSync(join(here, "releases"));

describe("configs of earlier releases", () => {
  it("are all here: the demo of each release, the docs' examples, the network rule", () => {
    expect(releases).toEqual(expect.arrayContaining(["babbb8f", "4786aed"]));
    expect(configs.length).toBeGreaterThanOrEqual(9);
  });

  it.each(configs)("%s loads and validates, and every policy decides without errors", async (file) => {
    const resolved = await loadConfigFile(join(here, file));
    const authorizer = createAuthorizer(resolved.policies);
    const { workloads, tasks } = resolved.config;
    let decided = 0;
    for (const w of workloads)
      for (const t of tasks) {
        const decision = authorizer.decide({
          workload: { name: w.name, issuer: w.issuer, subject: w.subject },
          tags: { sub: w.subject },
          task: { name: t.name, provider: t.provider, sensitivity: t.sensitivity },
          context: {
            sourceIp: "10.1.2.3",
            nowMs: Date.parse("2026-11-30T10:00:00Z"),
            durationSeconds: 900,
            purpose: "",
          },
        });
        // Cedar evaluated every policy (none errored, so none was silently skipped) and said why.
        expect(decision.erroredPolicyIds).toEqual([]);
        expect(decision.reasons.length).toBeGreaterThan(0);
        decided++;
      }
    expect(decided).toBe(workloads.length * tasks.length);
  });

  it.each(releases)(
    "the demo cases of release %s still pass against that release's demo config",
    async (rel) => {
      const io = capture();
      const dir = join(here, "releases", rel);
      await policyTestCommand(
        [join(dir, "policy-tests", "demo.cases.yaml"), "--config", join(dir, "broker.config.yaml")],
        io,
      );
      expect(io.stdout()).toMatch(/\n(\d+) passed, 0 failed\n$/);
    },
  );
});

describe("a global network forbid (forbid (principal, action, resource) when { context.sourceIp … })", () => {
  it.each([
    ["network-rule/without-approvals.config.yaml", false],
    ["network-rule/with-approvals.config.yaml", true],
  ])("%s loads (approvals: %s)", async (file, approvals) => {
    const resolved = await loadConfigFile(join(here, file));
    expect(resolved.config.approvals !== undefined).toBe(approvals);
    const authorizer = createAuthorizer(resolved.policies);
    const decide = (sourceIp: string) =>
      authorizer.decide({
        workload: { name: "web-ci", issuer: "ci", subject: "repo:acme/web:ref:refs/heads/main" },
        tags: {},
        task: { name: "deploy-web", provider: "aws-sts", sensitivity: "high" },
        context: { sourceIp, nowMs: Date.parse("2026-11-30T10:00:00Z"), durationSeconds: 900, purpose: "" },
      });
    expect(decide("10.20.3.4")).toMatchObject({ allowed: true, policyIds: ["ci-deploys"] });
    expect(decide("198.51.100.7")).toMatchObject({ allowed: false, policyIds: ["office-network-only"] });
  });

  it("with approvals, decides approvers by their own request's address", async () => {
    const resolved = await loadConfigFile(join(here, "network-rule/with-approvals.config.yaml"));
    const authorizer = createAuthorizer(resolved.policies);
    const approve = (sourceIp: string) =>
      authorizer.decideApproval({
        approver: { name: "alice", issuer: "corp" },
        tags: { sub: "alice" },
        task: { name: "deploy-web", provider: "aws-sts", sensitivity: "high" },
        context: {
          workload: "web-ci",
          owner: "",
          purpose: "",
          requestId: "r",
          sourceIp,
          nowMs: Date.parse("2026-11-30T10:00:00Z"),
        },
      });
    expect(approve("10.9.8.7")).toMatchObject({ allowed: true, policyIds: ["corp-approves"] });
    expect(approve("198.51.100.7")).toMatchObject({ allowed: false, policyIds: ["office-network-only"] });
  });
});

describe("POST /approvals/{id} under a global network forbid", () => {
  let broker: ApprovalBroker;
  beforeAll(async () => {
    broker = await createApprovalBroker({
      approvals: 1,
      policies: `${APPROVE_POLICIES}
@id("no-requests-from-the-guest-network")
forbid (principal, action, resource)
when { context.sourceIp.isInRange(ip("203.0.113.0/24")) };
`,
    });
  });
  afterAll(closeSharedDynamo);

  it("refuses an approver the forbid matches, and counts one it does not", async () => {
    const asked = await broker.request(await broker.workloadToken());
    expect(asked.status).toBe(400);
    const id = asked.body["approval_id"] as string;
    const token = await broker.approverToken("alice");
    const body = { decision: "approve", reason: "checked" };

    const refused = await broker.approvalsCall("POST", `/approvals/${id}`, {
      token,
      body,
      sourceIp: "203.0.113.9",
    });
    expect(refused.status).toBe(403);
    expect(refused.body["error"]).toBe("access_denied");

    const counted = await broker.approvalsCall("POST", `/approvals/${id}`, {
      token,
      body,
      sourceIp: "10.0.0.5",
    });
    expect(counted.status).toBe(200);
    expect(counted.body).toMatchObject({ status: "approved", approvals: 1, needed: 1 });
  });
});
