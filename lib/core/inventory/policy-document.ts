// IAM policy documents as the inventory reads them: URL-encoded strings from the IAM API, objects from the
// AWS CLI's JSON (which decodes them), or plain JSON text. Two judgements are made on them: whether a
// permissions policy makes its holder privileged (CONTRACT §9), and whom a trust policy lets assume a role.
import { InventoryError } from "./errors.ts";
import type { TrustedPrincipal } from "./model.ts";

interface Statement {
  Effect?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  NotResource?: unknown;
  Principal?: unknown;
  NotPrincipal?: unknown;
}

/** The statements of a document in any of its three forms; throws InventoryError naming `where`. */
export function policyStatements(raw: unknown, where: string): Statement[] {
  let doc = raw;
  if (typeof raw === "string") {
    try {
      doc = JSON.parse(raw);
    } catch {
      try {
        doc = JSON.parse(decodeURIComponent(raw));
      } catch {
        throw new InventoryError(`${where}: the policy document is neither JSON nor URL-encoded JSON`);
      }
    }
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new InventoryError(`${where}: the policy document is not a JSON object`);
  const statement = (doc as { Statement?: unknown }).Statement;
  const list = Array.isArray(statement) ? statement : statement === undefined ? [] : [statement];
  if (!list.every((s) => typeof s === "object" && s !== null && !Array.isArray(s)))
    throw new InventoryError(`${where}: a Statement is not an object`);
  return list as Statement[];
}

const strings = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** IAM action patterns: `*` and `?` wildcards, case-insensitive. */
function covers(pattern: string, action: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "i").test(action);
}

const isAllow = (s: Statement) => s.Effect === "Allow";

/**
 * Why the statements make a holder privileged: an Allow of `*` or `iam:*`, of everything but some actions
 * (NotAction) on `*`, or of `sts:AssumeRole` or `iam:PassRole` on Resource `*`. Deny statements are not
 * subtracted: a privilege fenced by a Deny still deserves its review.
 */
export function privilegeFindings(statements: readonly Statement[]): string[] {
  const found = new Set<string>();
  for (const s of statements) {
    if (!isAllow(s)) continue;
    const onEverything = strings(s.Resource).includes("*") || s.NotResource !== undefined;
    if (s.NotAction !== undefined && onEverything)
      found.add(`allows every action but ${strings(s.NotAction).join(", ")} on *`);
    for (const action of strings(s.Action)) {
      const a = action.toLowerCase();
      if (a === "*" || a === "*:*") found.add("allows *");
      else if (a === "iam:*") found.add("allows iam:*");
      else {
        if (onEverything && covers(action, "sts:AssumeRole")) found.add("allows sts:AssumeRole on *");
        if (onEverything && covers(action, "iam:PassRole")) found.add("allows iam:PassRole on *");
      }
    }
  }
  return [...found];
}

const ASSUME_ACTIONS = ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "sts:AssumeRoleWithSAML"];

/** The root ARN of a 12-digit account id in a trust policy, or the ARN as written. */
const awsPrincipalId = (v: string, partition: string) =>
  /^\d{12}$/.test(v) ? `arn:${partition}:iam::${v}:root` : v;

function labelFor(type: TrustedPrincipal["type"], id: string): string {
  if (type === "*") return "trusted by *";
  if (type === "Service") return `trusted by service ${id}`;
  if (type === "Federated") {
    const m = /^arn:[^:]+:iam::\d{12}:((?:oidc|saml)-provider\/.+)$/.exec(id);
    return `trusted by ${m ? m[1] : id}`;
  }
  const root = /^arn:[^:]+:iam::(\d{12}):root$/.exec(id);
  if (root) return `trusted by account ${root[1]} (any principal it allows)`;
  return `trusted by ${id}`;
}

/** Every principal an Allow statement of a trust policy lets assume the role. */
export function trustedPrincipals(statements: readonly Statement[], partition = "aws"): TrustedPrincipal[] {
  const out = new Map<string, TrustedPrincipal>();
  const add = (type: TrustedPrincipal["type"], id: string) => {
    const p = { type, id, label: labelFor(type, id) };
    out.set(`${type}|${id}`, p);
  };
  for (const s of statements) {
    if (!isAllow(s)) continue;
    const actions = strings(s.Action);
    const assumes =
      s.NotAction !== undefined || actions.some((a) => ASSUME_ACTIONS.some((x) => covers(a, x)));
    if (!assumes) continue;
    if (s.NotPrincipal !== undefined) {
      out.set("NotPrincipal", {
        type: "NotPrincipal",
        id: "*",
        label: "trusted by every principal but those in its NotPrincipal",
      });
      continue;
    }
    const principal = s.Principal;
    if (principal === "*") {
      add("*", "*");
      continue;
    }
    if (typeof principal !== "object" || principal === null) continue;
    for (const [type, value] of Object.entries(principal as Record<string, unknown>)) {
      for (const v of strings(value)) {
        if (v === "*") add("*", "*");
        else if (type === "AWS") add("AWS", awsPrincipalId(v, partition));
        else if (type === "Federated" || type === "Service" || type === "CanonicalUser") add(type, v);
      }
    }
  }
  return [...out.values()];
}

/**
 * The same identity as a comparable key: a role ARN and the assumed-role ARN of one of its sessions both
 * become `<account>:role/<name>` (an assumed-role ARN has no path, so the path is dropped on both sides).
 */
export function principalKey(arn: string): string {
  const assumed = /^arn:[^:]+:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  if (assumed) return `${assumed[1]}:role/${assumed[2]}`;
  const role = /^arn:[^:]+:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (role) return `${role[1]}:role/${role[2]}`;
  return arn;
}
