// Compiles policy files into one named Cedar policy set: validated in strict mode against the contract's
// schema, each policy named by its @id, exceptions (@exception + @expires) read once.
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { cedarSchema, type SchemaFeatures } from "./cedar-schema.ts";
import { type PolicyJson, scopedTaskOf, tagKeysOf } from "./policy-facts.ts";

export interface PolicyFile {
  /** The path as the user wrote it (relative to the config), used in every message about the file. */
  file: string;
  text: string;
}

export interface PolicyInfo {
  id: string;
  file: string;
  line: number;
  effect: "permit" | "forbid";
  /** The ticket of a time-bound exception. */
  exception?: string;
  /** Epoch ms after which the exception no longer counts. */
  expiresAt?: number;
  /** The policy's own text, as written. */
  text: string;
  /** Which context variables the policy reads; the sweep uses this to know what time can change. */
  readsTime: boolean;
  /** The task its scope pins (`resource == Task::"x"`); absent: any task. Meaningful only with tagKeys. */
  scopedTask?: string;
  /**
   * The tag keys it can read, or "any". Absent in bundles compiled before it existed: the authorizer then
   * works both facts out from the text itself.
   */
  tagKeys?: string[] | "any";
  /**
   * Cedar's JSON form of the policy, which the authorizer hands to Cedar instead of the text: Cedar's text
   * parser is then never compiled, and a cold start answers up to tens of milliseconds sooner (BENCHMARKS.md
   * §6). Absent where the form is not exact in JavaScript, and in bundles compiled before it existed: the
   * text is parsed then.
   */
  json?: PolicyJson;
}

/**
 * Whether Cedar's JSON form of a policy came through JavaScript unchanged: a long literal beyond 2^53 does
 * not (it arrives as a rounded double), and such a policy must be parsed from its text.
 */
function survivesJs(value: unknown): boolean {
  if (typeof value === "number") return Number.isSafeInteger(value);
  if (typeof value === "bigint") return false;
  if (Array.isArray(value)) return value.every(survivesJs);
  if (value !== null && typeof value === "object") return Object.values(value).every(survivesJs);
  return true;
}

export interface CompiledPolicies {
  policies: Record<string, PolicyInfo>;
}

export class PolicyValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`policies do not validate:\n  ${problems.join("\n  ")}`);
    this.name = "PolicyValidationError";
  }
}

function lineOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/**
 * `features` says which parts of the vocabulary the config uses (CONTRACT §17): without approvals, a policy
 * that leaves its action open is checked against `issue` alone, as it was before approvals existed.
 */
export function compilePolicies(
  files: PolicyFile[],
  features: SchemaFeatures = { approvals: false },
): CompiledPolicies {
  const schema = cedarSchema(features);
  const problems: string[] = [];
  const policies: Record<string, PolicyInfo> = {};
  for (const { file, text } of files) {
    const validation = cedar.validate({
      validationSettings: { mode: "strict" },
      schema,
      policies: { staticPolicies: text },
    });
    if (validation.type === "failure") {
      for (const e of validation.errors) {
        const loc = e.sourceLocations?.[0];
        const at = loc ? lineOf(text, loc.start) : undefined;
        problems.push(`${file}${at ? `:${at.line}:${at.column}` : ""}: ${e.message}`);
      }
      continue;
    }
    // A policy that leaves its action open is checked once per action: report each place once.
    const reported = new Set<string>();
    for (const v of validation.validationErrors) {
      const loc = v.error.sourceLocations?.[0];
      const at = loc ? lineOf(text, loc.start) : undefined;
      const where = `${file}${at ? `:${at.line}:${at.column}` : ""}`;
      if (at && reported.has(where)) continue;
      reported.add(where);
      let message = v.error.message.replace(/^for policy `policy\d+`, /, "");
      if (/for Action::"approve"/.test(message))
        message += `; with approvals configured, a policy that leaves its action open applies to approve too: scope it with action == Action::"issue"`;
      problems.push(`${where}: ${message}`);
    }
    const parts = cedar.policySetTextToParts(text);
    if (parts.type === "failure") {
      problems.push(`${file}: ${parts.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    if (parts.policy_templates.length > 0) problems.push(`${file}: policy templates are not supported`);
    let searchFrom = 0;
    parts.policies.forEach((policyText, index) => {
      const offset = text.indexOf(policyText, searchFrom);
      if (offset >= 0) searchFrom = offset + policyText.length;
      const line = offset >= 0 ? lineOf(text, offset).line : 1;
      const json = cedar.policyToJson(policyText);
      if (json.type === "failure") {
        problems.push(`${file}:${line}: ${json.errors.map((e) => e.message).join("; ")}`);
        return;
      }
      const annotations = json.json.annotations ?? {};
      const id = annotations["id"] ?? `${file}#${index + 1}`;
      if (!/^[\w.:/#@-]{1,128}$/.test(id))
        problems.push(`${file}:${line}: @id "${id}" must be 1-128 of [A-Za-z0-9_.:/#@-]`);
      if (policies[id]) {
        problems.push(
          `${file}:${line}: duplicate policy id "${id}" (also in ${policies[id].file}:${policies[id].line})`,
        );
        return;
      }
      const info: PolicyInfo = {
        id,
        file,
        line,
        effect: json.json.effect,
        text: policyText,
        readsTime: readsContext(json.json, TIME_ATTRIBUTES),
        tagKeys: tagKeysOf(json.json),
      };
      if (survivesJs(json.json)) info.json = json.json;
      const scopedTask = scopedTaskOf(json.json);
      if (scopedTask !== undefined) info.scopedTask = scopedTask;
      const exception = annotations["exception"];
      const expires = annotations["expires"];
      if (exception !== undefined || expires !== undefined) {
        if (json.json.effect !== "permit")
          problems.push(`${file}:${line}: @exception applies to permit policies only`);
        if (!exception)
          problems.push(`${file}:${line}: @expires needs @exception("<ticket>") on the same policy`);
        if (!expires || !RFC3339.test(expires) || Number.isNaN(Date.parse(expires)))
          problems.push(
            `${file}:${line}: @exception needs @expires("<RFC 3339 time>"), e.g. 2026-12-31T00:00:00Z`,
          );
        else info.expiresAt = Date.parse(expires);
        if (exception) info.exception = exception;
      }
      policies[id] = info;
    });
  }
  if (problems.length > 0) throw new PolicyValidationError(problems);
  return { policies };
}

const TIME_ATTRIBUTES = new Set(["now", "hourUtc", "weekdayUtc"]);

/**
 * Whether a policy's JSON form reads one of `attributes` from the context. Read from Cedar's own parse, so
 * both spellings (`context.now`, `context["now"]`), `has` tests, and no comment or string literal, count.
 */
export function readsContext(node: unknown, attributes: ReadonlySet<string>): boolean {
  if (Array.isArray(node)) return node.some((n) => readsContext(n, attributes));
  if (node === null || typeof node !== "object") return false;
  for (const [key, value] of Object.entries(node)) {
    if ((key === "." || key === "has") && value && typeof value === "object") {
      const { left, attr } = value as { left?: { Var?: string }; attr?: string };
      if (left?.Var === "context" && attr !== undefined && attributes.has(attr)) return true;
    }
    if (readsContext(value, attributes)) return true;
  }
  return false;
}
