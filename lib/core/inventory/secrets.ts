// Secrets Manager in the inventory (CONTRACT §9, §15): each secret as ListSecrets gives it (the SDK's shape,
// or `aws secretsmanager list-secrets` JSON), its resource policy, and who other than the broker can read
// it — through an identity policy (inline, managed, or a group's) or the resource policy, allowing
// `secretsmanager:GetSecretValue` on it (by `*`, `secretsmanager:*`, or a Resource pattern matched as IAM
// matches it), and not denied. Only the statements that could concern reading a secret are kept.
import { z } from "zod";
import { InventoryError } from "./errors.ts";
import { policyStatements, principalKey } from "./policy-document.ts";

const READ_ACTION = "secretsmanager:GetSecretValue";

const time = z.union([z.string(), z.date(), z.number()]).transform((v, ctx) => {
  // The SDK gives Dates, the CLI ISO text, the JSON protocol epoch seconds.
  const ms = v instanceof Date ? v.getTime() : typeof v === "number" ? v * 1000 : Date.parse(v);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: "is not a date" });
    return z.NEVER;
  }
  return new Date(ms).toISOString();
});

const secretEntry = z
  .object({
    ARN: z
      .string()
      .regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/, "is not a secret ARN"),
    Name: z.string(),
    Tags: z.array(z.object({ Key: z.string(), Value: z.string() }).passthrough()).default([]),
    LastAccessedDate: time.optional(),
    LastRotatedDate: time.optional(),
    LastChangedDate: time.optional(),
    CreatedDate: time.optional(),
    DeletedDate: time.optional(),
    RotationEnabled: z.boolean().default(false),
    KmsKeyId: z.string().optional(),
    /** Not in ListSecrets' answer: added by the live sync from GetResourcePolicy, or by hand to a file. */
    ResourcePolicy: z.unknown().optional(),
  })
  .passthrough();

/** A statement of an identity policy that may allow or deny reading secrets. */
export interface SecretStatement {
  effect: "Allow" | "Deny";
  /** Resource patterns, or with `notResource` the patterns it excludes. */
  resources: string[];
  notResource: boolean;
  /** The statement has a Condition: an Allow is counted (it may hold), a Deny is not (it may not). */
  conditional: boolean;
  /** Which policy says it: `inline policy X`, `managed policy Y`. */
  policy: string;
}

/** A statement of a secret's resource policy naming who may (or may not) read it. */
export interface ResourceStatement {
  effect: "Allow" | "Deny";
  /** AWS principal ARNs (an account id as its root), `*` for anyone. */
  principals: string[];
  /** Deny only: it applies to every principal but those whose ARN matches one of these (aws:PrincipalArn). */
  exceptPrincipals?: string[];
  conditional: boolean;
}

export interface SecretFacts {
  arn: string;
  name: string;
  tags: { Key: string; Value: string }[];
  lastAccessed?: string;
  lastRotated?: string;
  createdAt?: string;
  rotationEnabled: boolean;
  /** Undefined when the resource policy was not read (a file without it). */
  resourcePolicy?: ResourceStatement[];
}

const strings = (v: unknown): string[] =>
  typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** IAM's wildcards: `*` any run of characters (slashes included), `?` one; case-insensitive for actions. */
export function iamMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`, caseInsensitive ? "is" : "s").test(value);
}

/** Whether a statement's Action / NotAction covers reading a secret's value. */
function coversRead(s: { Action?: unknown; NotAction?: unknown }): boolean {
  if (s.NotAction !== undefined) return !strings(s.NotAction).some((a) => iamMatch(a, READ_ACTION, true));
  return strings(s.Action).some((a) => iamMatch(a, READ_ACTION, true));
}

/** The statements of an identity policy that concern reading secrets, labelled with the policy. */
export function secretStatements(
  statements: readonly Record<string, unknown>[],
  policy: string,
): SecretStatement[] {
  const out: SecretStatement[] = [];
  for (const s of statements) {
    if ((s["Effect"] !== "Allow" && s["Effect"] !== "Deny") || !coversRead(s)) continue;
    const notResource = s["NotResource"] !== undefined;
    out.push({
      effect: s["Effect"],
      resources: strings(notResource ? s["NotResource"] : s["Resource"]),
      notResource,
      conditional: s["Condition"] !== undefined,
      policy,
    });
  }
  return out;
}

const PRINCIPAL_ARN_KEYS = /^aws:principalarn$/i;
const NEGATED = /^(StringNotEquals|StringNotLike|ArnNotEquals|ArnNotLike)(IfExists)?$/;

/** The statements of a resource policy that concern reading the secret. */
export function resourceStatements(raw: unknown, where: string, partition = "aws"): ResourceStatement[] {
  const out: ResourceStatement[] = [];
  for (const s of policyStatements(raw, where) as Record<string, unknown>[]) {
    if ((s["Effect"] !== "Allow" && s["Effect"] !== "Deny") || !coversRead(s)) continue;
    const principal = s["Principal"];
    const principals: string[] = [];
    if (principal === "*") principals.push("*");
    else if (principal && typeof principal === "object")
      for (const [type, v] of Object.entries(principal as Record<string, unknown>))
        for (const p of strings(v))
          if (p === "*") principals.push("*");
          else if (type === "AWS")
            principals.push(/^\d{12}$/.test(p) ? `arn:${partition}:iam::${p}:root` : p);
          else principals.push(`${type}:${p}`);
    if (s["NotPrincipal"] !== undefined) principals.push("*");
    const condition = s["Condition"] as Record<string, Record<string, unknown>> | undefined;
    const statement: ResourceStatement = {
      effect: s["Effect"],
      principals,
      conditional: condition !== undefined,
    };
    // The usual fence: Deny everyone whose aws:PrincipalArn is not the broker's.
    if (s["Effect"] === "Deny" && condition) {
      const ops = Object.entries(condition);
      if (
        ops.length === 1 &&
        NEGATED.test(ops[0]![0]) &&
        Object.keys(ops[0]![1]).length === 1 &&
        PRINCIPAL_ARN_KEYS.test(Object.keys(ops[0]![1])[0]!)
      ) {
        statement.exceptPrincipals = strings(Object.values(ops[0]![1])[0]);
        statement.conditional = false;
      }
    }
    out.push(statement);
  }
  return out;
}

/** One ListSecrets entry (SDK or CLI shape), checked, with its resource policy if it came with one. */
export function secretFacts(raw: unknown, where: string): SecretFacts {
  const parsed = secretEntry.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.length > 0 ? `.${issue.path.join(".")}` : "";
    throw new InventoryError(`secrets: ${where}${path}: ${issue.message}`);
  }
  const e = parsed.data;
  const partition = e.ARN.split(":")[1] ?? "aws";
  return {
    arn: e.ARN,
    name: e.Name,
    tags: e.Tags.map((t) => ({ Key: t.Key, Value: t.Value })),
    ...(e.LastAccessedDate ? { lastAccessed: e.LastAccessedDate } : {}),
    ...(e.LastRotatedDate ? { lastRotated: e.LastRotatedDate } : {}),
    ...(e.CreatedDate ? { createdAt: e.CreatedDate } : {}),
    rotationEnabled: e.RotationEnabled,
    ...(e.ResourcePolicy !== undefined && e.ResourcePolicy !== null
      ? {
          resourcePolicy: resourceStatements(e.ResourcePolicy, `secret ${e.Name} resource policy`, partition),
        }
      : {}),
  };
}

/** Whether a secret task's `secretArn` (complete, or without the six-character suffix) names this secret. */
export function servesSecret(taskArn: string, secretArn: string): boolean {
  return (
    taskArn === secretArn || (secretArn.startsWith(`${taskArn}-`) && secretArn.length === taskArn.length + 7)
  );
}

/** Whether identity statements let their holder read `secretArn`: the allowing policy, or undefined. */
export function identityAllows(
  statements: readonly SecretStatement[],
  secretArn: string,
): string | undefined {
  const matches = (s: SecretStatement) => {
    const hit = s.resources.some((r) => iamMatch(r, secretArn));
    return s.notResource ? !hit : hit;
  };
  if (statements.some((s) => s.effect === "Deny" && !s.conditional && matches(s))) return undefined;
  const allow = statements.find((s) => s.effect === "Allow" && matches(s));
  return allow ? `${allow.policy}${allow.conditional ? " (with a condition)" : ""}` : undefined;
}

/** Whether a resource policy denies `principalArn` reading the secret outright. */
export function resourceDenies(
  statements: readonly ResourceStatement[] | undefined,
  principalArn: string,
): boolean {
  const key = principalKey(principalArn);
  return (statements ?? []).some((s) => {
    if (s.effect !== "Deny" || s.conditional) return false;
    if (s.exceptPrincipals)
      return !s.exceptPrincipals.some((p) => iamMatch(p, principalArn) || principalKey(p) === key);
    return s.principals.some((p) => p === "*" || principalKey(p) === key);
  });
}
