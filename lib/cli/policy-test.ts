// `credbroker policy test CASES_FILE... [--config FILE]`: decides YAML test cases offline against the
// config with the token path's own parts (workload lookup, claim and signal tags, the Cedar authorizer),
// so a policy change that flips a decision fails CI before it is deployed.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { loadConfigFile } from "../config/load.ts";
import { formatZodIssues, type ResolvedConfig } from "../config/resolve.ts";
import type { TaskConfig, WorkloadConfig } from "../config/schema.ts";
import { decisionInput } from "../core/decision.ts";
import { grantedDuration } from "../core/duration.ts";
import { DurationOutOfRange } from "../core/errors.ts";
import { claimsToTags } from "../core/identity/claims.ts";
import { createWorkloadMatcher } from "../core/identity/workloads.ts";
import { type Authorizer, createAuthorizer } from "../core/policy/authorizer.ts";
import { configPathFrom } from "./env.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export const POLICY_TEST_USAGE = "usage: credbroker policy test CASES_FILE... [--config FILE] [--json]";

const caseSchema = z
  .object({
    name: z.string().min(1),
    /** A workload name from the config; or `subject` (with `issuer` when the config trusts several). */
    workload: z.string().min(1).optional(),
    subject: z.string().min(1).optional(),
    issuer: z.string().min(1).optional(),
    claims: z.record(z.string(), z.unknown()).default({}),
    task: z.string().min(1),
    context: z
      .object({
        sourceIp: z.string().min(1).default("127.0.0.1"),
        /** RFC 3339; default: the time the test runs, so exceptions past @expires stop counting. */
        time: z.string().optional(),
        durationSeconds: z.number().int().positive().optional(),
        purpose: z.string().max(256).default(""),
      })
      .strict()
      .default({ sourceIp: "127.0.0.1", purpose: "" }),
    signals: z.record(z.string(), z.string()).default({}),
    /** An approval case (CONTRACT §10): may this approver approve the workload's request for the task? */
    approver: z
      .object({
        sub: z.string().min(1),
        /** An approvals.issuers name; default the only one. */
        issuer: z.string().min(1).optional(),
        claims: z.record(z.string(), z.unknown()).default({}),
      })
      .strict()
      .optional(),
    expect: z.enum(["allow", "deny"]),
    /** The deciding policies, compared as a set: the permits of an allow, the forbids of a deny. */
    policyIds: z.array(z.string()).optional(),
  })
  .strict()
  .refine((c) => c.workload !== undefined || c.subject !== undefined, {
    message: "give workload or subject",
    path: ["workload"],
  });

// A file is a list of cases, or `cases:` holding one (room for file-level settings later).
const casesFileSchema = z.object({ cases: z.array(caseSchema).min(1) }).strict();

export type PolicyTestCase = z.infer<typeof caseSchema>;

export interface CaseResult {
  file: string;
  name: string;
  passed: boolean;
  expected: "allow" | "deny";
  /** Absent when the case could not be evaluated (see `error`). */
  actual?: "allow" | "deny";
  policyIds?: string[];
  reasons?: string[];
  workload?: string;
  /** Why the case failed, in words. */
  problem?: string;
}

interface Evaluation {
  allowed: boolean;
  policyIds: string[];
  reasons: string[];
  workload?: string;
}

class CaseError extends Error {}

function findWorkload(
  resolved: ResolvedConfig,
  c: PolicyTestCase,
): { workload?: WorkloadConfig; subject: string; issuer: string } {
  const { config } = resolved;
  if (c.subject !== undefined) {
    const issuer =
      c.issuer ??
      (c.workload ? config.workloads.find((w) => w.name === c.workload)?.issuer : undefined) ??
      onlyIssuer(resolved);
    if (!config.issuers.some((i) => i.name === issuer))
      throw new CaseError(`no issuer named ${issuer} in the config`);
    const workload = createWorkloadMatcher(config.workloads).match(issuer, c.subject);
    if (c.workload !== undefined && workload?.name !== c.workload)
      throw new CaseError(
        `subject ${c.subject} matches ${workload ? `workload ${workload.name}` : "no workload"}, not ${c.workload}`,
      );
    return { ...(workload ? { workload } : {}), subject: c.subject, issuer };
  }
  const workload = config.workloads.find((w) => w.name === c.workload);
  if (!workload) throw new CaseError(`no workload named ${c.workload} in the config`);
  const sub = typeof c.claims["sub"] === "string" ? (c.claims["sub"] as string) : workload.subject;
  return { workload, subject: sub, issuer: workload.issuer };
}

function onlyIssuer(resolved: ResolvedConfig): string {
  // Approver issuers never identify a workload (CONTRACT §10), so they do not make the choice ambiguous.
  const approvers = new Set(resolved.config.approvals?.issuers ?? []);
  const issuers = resolved.config.issuers.filter((i) => !approvers.has(i.name));
  if (issuers.length !== 1) throw new CaseError("the config trusts several issuers: give the case an issuer");
  return issuers[0]!.name;
}

function durationFor(task: TaskConfig, requested: number | undefined): number {
  try {
    return grantedDuration(task, requested);
  } catch (err) {
    if (err instanceof DurationOutOfRange)
      throw new CaseError(
        `durationSeconds ${requested} is outside ${err.min}..${err.max} for task ${task.name}`,
      );
    throw err;
  }
}

/** One case through the same steps as the token path: find workload, refuse disabled, tag, decide. */
function evaluateCase(
  resolved: ResolvedConfig,
  authorizer: Authorizer,
  c: PolicyTestCase,
  nowMs: number,
): Evaluation {
  const task = resolved.config.tasks.find((t) => t.name === c.task);
  if (!task) throw new CaseError(`no task named ${c.task} in the config`);
  if (c.approver) return evaluateApproval(resolved, authorizer, c, c.approver, task, nowMs);
  const found = findWorkload(resolved, c);
  const timeMs = c.context.time === undefined ? nowMs : Date.parse(c.context.time);
  if (Number.isNaN(timeMs)) throw new CaseError(`context.time ${c.context.time} is not an RFC 3339 time`);
  const durationSeconds = durationFor(task, c.context.durationSeconds);
  if (!found.workload)
    return { allowed: false, policyIds: [], reasons: ["the subject is not a registered workload"] };
  const workload = found.workload;
  if (workload.disabled)
    return { allowed: false, policyIds: [], reasons: ["the workload is disabled"], workload: workload.name };
  const issuerUrl = resolved.config.issuers.find((i) => i.name === found.issuer)?.issuer;
  const claims = { ...(issuerUrl ? { iss: issuerUrl } : {}), sub: found.subject, ...c.claims };
  const decision = authorizer.decide(
    decisionInput({
      workload,
      subject: found.subject,
      claimTags: claimsToTags(claims),
      signals: c.signals,
      task,
      context: { sourceIp: c.context.sourceIp, nowMs: timeMs, durationSeconds, purpose: c.context.purpose },
    }),
  );
  return {
    allowed: decision.allowed,
    policyIds: decision.policyIds,
    reasons: decision.reasons,
    workload: workload.name,
  };
}

/** An approval case: the approver's `approve` decision on a request of `workload` for `task`. */
function evaluateApproval(
  resolved: ResolvedConfig,
  authorizer: Authorizer,
  c: PolicyTestCase,
  approver: NonNullable<PolicyTestCase["approver"]>,
  task: TaskConfig,
  nowMs: number,
): Evaluation {
  const workload = resolved.config.workloads.find((w) => w.name === c.workload);
  if (!workload) throw new CaseError("an approval case names the requesting workload in workload");
  const issuers = resolved.config.approvals?.issuers ?? [];
  const issuer = approver.issuer ?? (issuers.length === 1 ? issuers[0] : undefined);
  if (!issuer || !issuers.includes(issuer))
    throw new CaseError(
      "approver.issuer must name one of approvals.issuers (required when there are several)",
    );
  const timeMs = c.context.time === undefined ? nowMs : Date.parse(c.context.time);
  const decision = authorizer.decideApproval({
    approver: { name: approver.sub, issuer },
    tags: claimsToTags({ sub: approver.sub, ...approver.claims }),
    task: { name: task.name, provider: task.provider, sensitivity: task.sensitivity },
    context: {
      workload: workload.name,
      owner: workload.owner ?? "",
      purpose: c.context.purpose,
      requestId: "policy-test",
      sourceIp: c.context.sourceIp,
      nowMs: timeMs,
    },
  });
  return {
    allowed: decision.allowed,
    policyIds: decision.policyIds,
    reasons: decision.reasons,
    workload: workload.name,
  };
}

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);

function runCase(
  resolved: ResolvedConfig,
  authorizer: Authorizer,
  file: string,
  c: PolicyTestCase,
  nowMs: number,
): CaseResult {
  const base = { file, name: c.name, expected: c.expect };
  let ev: Evaluation;
  try {
    ev = evaluateCase(resolved, authorizer, c, nowMs);
  } catch (err) {
    if (err instanceof CaseError) return { ...base, passed: false, problem: err.message };
    throw err;
  }
  const actual = ev.allowed ? "allow" : "deny";
  const result: CaseResult = {
    ...base,
    passed: true,
    actual,
    policyIds: ev.policyIds,
    reasons: ev.reasons,
    ...(ev.workload ? { workload: ev.workload } : {}),
  };
  const problems: string[] = [];
  if (actual !== c.expect) problems.push(`expected ${c.expect}, got ${actual} (${ev.reasons.join("; ")})`);
  if (c.policyIds !== undefined && !sameSet(c.policyIds, ev.policyIds))
    problems.push(`expected policies [${c.policyIds.join(", ")}], got [${ev.policyIds.join(", ")}]`);
  if (problems.length > 0) {
    result.passed = false;
    result.problem = problems.join("; ");
  }
  return result;
}

async function readCases(file: string): Promise<PolicyTestCase[]> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new CliError(
      `${file}: cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let raw: unknown;
  try {
    raw = file.endsWith(".json") ? JSON.parse(text) : parseYaml(text, { uniqueKeys: true });
  } catch (err) {
    throw new CliError(`${file}: cannot parse: ${(err as Error).message.split("\n")[0]}`);
  }
  const parsed = casesFileSchema.safeParse(Array.isArray(raw) ? { cases: raw } : raw);
  if (!parsed.success)
    throw new CliError(
      `${file} is not a valid test-case file:\n  ${formatZodIssues(parsed.error.issues).join("\n  ")}`,
    );
  return parsed.data.cases;
}

export async function policyTestCommand(
  args: string[],
  io: CliIo,
  now: () => number = Date.now,
): Promise<CaseResult[]> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: "string" }, json: { type: "boolean", default: false } },
  });
  if (positionals.length === 0) throw new CliError(POLICY_TEST_USAGE, 2);
  const resolved = await loadConfigFile(configPathFrom(values.config, io.env));
  const authorizer = createAuthorizer(resolved.policies);
  const nowMs = now();
  const results: CaseResult[] = [];
  for (const file of positionals) {
    for (const c of await readCases(file)) results.push(runCase(resolved, authorizer, file, c, nowMs));
  }
  const failed = results.filter((r) => !r.passed);
  if (values.json)
    io.out(
      `${JSON.stringify({ passed: results.length - failed.length, failed: failed.length, results }, null, 2)}\n`,
    );
  else {
    for (const r of results) {
      const decided = r.actual ? `${r.actual} (${(r.reasons ?? []).join("; ")})` : "";
      io.out(r.passed ? `ok    ${r.name}: ${decided}\n` : `FAIL  ${r.name} (${r.file}): ${r.problem}\n`);
    }
    io.out(`\n${results.length - failed.length} passed, ${failed.length} failed\n`);
  }
  if (failed.length > 0)
    throw new CliError(
      `${failed.length} of ${results.length} policy test cases failed: ${failed.map((f) => f.name).join(", ")}`,
      1,
    );
  return results;
}
