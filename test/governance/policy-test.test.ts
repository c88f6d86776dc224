// `credbroker policy test`: YAML cases decided offline against a config; the demo cases pass, and a policy
// change that flips a decision fails with a non-zero exit that names the case.
import { execFile } from "node:child_process";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { CliError } from "../../lib/cli/errors.ts";
import { type CaseResult, policyTestCommand } from "../../lib/cli/policy-test.ts";
import { NOW } from "../support/broker.ts";
import { capture } from "./capture.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DEMO_CASES = join(ROOT, "examples/policy-tests/demo.cases.yaml");

/** A copy of the demo config and its policies that a test may change. */
async function demoCopy(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-ptest-"));
  await cp(join(ROOT, "examples"), dir, { recursive: true });
  return dir;
}

async function casesFile(dir: string, yaml: string): Promise<string> {
  const path = join(dir, "cases.yaml");
  await writeFile(path, yaml);
  return path;
}

describe("credbroker policy test", () => {
  it("passes every demo case against the demo config", async () => {
    const io = capture();
    const results = await policyTestCommand(
      [DEMO_CASES, "--config", join(ROOT, "examples/broker.config.yaml")],
      io,
      () => NOW,
    );
    expect(results.length).toBeGreaterThanOrEqual(10);
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(io.stdout()).toContain(`${results.length} passed, 0 failed`);
    expect(io.stdout()).toContain(
      "ok    web CI deploys from main on the office network: allow (permitted by web-deploys-from-main)",
    );
  });

  it("catches a policy change that flips a decision, naming the case, with exit code 1", async () => {
    const dir = await demoCopy();
    const identity = join(dir, "policies/identity.cedar");
    // The change under review: deploys now come from a release branch instead of main.
    await writeFile(
      identity,
      (await readFile(identity, "utf8")).replace('"refs/heads/main"', '"refs/heads/release"'),
    );
    const io = capture();
    const run = policyTestCommand([DEMO_CASES, "--config", join(dir, "broker.config.yaml")], io, () => NOW);
    await expect(run).rejects.toBeInstanceOf(CliError);
    await expect(run).rejects.toMatchObject({
      exitCode: 1,
      message: expect.stringContaining("web CI deploys from main on the office network"),
    });
    expect(io.stdout()).toMatch(
      /FAIL {2}web CI deploys from main on the office network \(.*demo\.cases\.yaml\): expected allow, got deny \(no policy permits this request\); expected policies \[web-deploys-from-main\], got \[\]/,
    );
    expect(io.stdout()).toMatch(/\d+ passed, 1 failed/);
  });

  it("exits non-zero from the command line when a case fails", async () => {
    const dir = await demoCopy();
    const cases = await casesFile(
      dir,
      `- name: legacy-cron may deploy\n  workload: legacy-cron\n  task: deploy-web\n  context: { time: "2026-11-30T10:00:00Z" }\n  expect: allow\n`,
    );
    const cli = promisify(execFile);
    const run = cli(
      process.execPath,
      [
        "--import",
        "tsx",
        join(ROOT, "bin/credbroker.ts"),
        "policy",
        "test",
        cases,
        "--config",
        join(dir, "broker.config.yaml"),
      ],
      {
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      },
    );
    await expect(run).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining("FAIL  legacy-cron may deploy"),
      stderr: expect.stringContaining("1 of 1 policy test cases failed: legacy-cron may deploy"),
    });
  });

  it.each<[string, string, Partial<CaseResult>]>([
    [
      "a signal flips an allow into a deny",
      `- name: c\n  subject: "repo:acme/web:ref:refs/heads/main"\n  claims: { repository: acme/web }\n  signals: { quarantined: "true" }\n  task: read-reports\n  expect: deny\n  policyIds: [quarantine]\n`,
      { passed: true, actual: "deny", policyIds: ["quarantine"], workload: "web-ci" },
    ],
    [
      "an exception stops counting after @expires",
      `- name: c\n  workload: legacy-cron\n  task: read-reports\n  context: { time: "2027-03-31T00:00:00Z" }\n  expect: deny\n`,
      { passed: true, actual: "deny", reasons: ["exception legacy-cron-reads-reports expired"] },
    ],
    [
      "the time of day is part of the context",
      `cases:\n  - name: c\n    workload: reports-job\n    task: publish-reports\n    context: { time: "2026-11-30T21:00:00Z", purpose: close }\n    expect: allow\n`,
      { passed: false, actual: "deny", problem: "expected allow, got deny (no policy permits this request)" },
    ],
    [
      "a disabled workload is refused before any policy",
      `- name: c\n  workload: old-agent\n  task: read-reports\n  expect: deny\n`,
      { passed: true, actual: "deny", reasons: ["the workload is disabled"] },
    ],
    [
      "an unknown task is a failure, not a deny",
      `- name: c\n  workload: web-ci\n  task: no-such-task\n  expect: deny\n`,
      { passed: false, problem: "no task named no-such-task in the config" },
    ],
    [
      "a duration beyond the task's cap is a failure",
      `- name: c\n  workload: reports-job\n  task: read-reports\n  context: { durationSeconds: 3600 }\n  expect: allow\n`,
      { passed: false, problem: "durationSeconds 3600 is outside 60..300 for task read-reports" },
    ],
    [
      "a subject that matches another workload than the one named is a failure",
      `- name: c\n  workload: reports-job\n  subject: "repo:acme/web:ref:refs/heads/main"\n  task: read-reports\n  expect: allow\n`,
      {
        passed: false,
        problem: "subject repo:acme/web:ref:refs/heads/main matches workload web-ci, not reports-job",
      },
    ],
  ])("%s", async (_title, yaml, expected) => {
    const dir = await demoCopy();
    const io = capture();
    const cases = await casesFile(dir, yaml);
    let results: CaseResult[] | undefined;
    try {
      results = await policyTestCommand(
        [cases, "--config", join(dir, "broker.config.yaml"), "--json"],
        io,
        () => NOW,
      );
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
    }
    const doc = JSON.parse(io.stdout()) as { results: CaseResult[]; failed: number };
    expect(doc.results[0]).toMatchObject(expected);
    expect(doc.failed).toBe(expected.passed ? 0 : 1);
    if (expected.passed) expect(results).toHaveLength(1);
  });

  it("refuses a malformed cases file with the path of the problem", async () => {
    const dir = await demoCopy();
    const cases = await casesFile(
      dir,
      `- name: c\n  workload: web-ci\n  task: read-reports\n  expect: maybe\n  colour: red\n`,
    );
    const run = policyTestCommand([cases, "--config", join(dir, "broker.config.yaml")], capture(), () => NOW);
    await expect(run).rejects.toThrow(/is not a valid test-case file/);
    await expect(run).rejects.toThrow(/expect/);
  });
});
