// The secrets of one account's snapshot (CONTRACT §15): which are served by a `secret` task, which are
// rotated after use, which count as static (not brokered, or not rotated within staleAfterDays), and for a
// served one, which principals other than the broker can still read it — a bypass of the broker, listed
// under `broker-bypass` with the secret's ARN and the principal and policy in `why`.
import type { AccountFacts, PrincipalFacts } from "./model.ts";
import { principalKey } from "./policy-document.ts";
import type { PrincipalRecord } from "./records.ts";
import {
  identityAllows,
  resourceDenies,
  type SecretFacts,
  type SecretStatement,
  servesSecret,
} from "./secrets.ts";

export interface SecretTask {
  task: string;
  secretArn: string;
  rotateAfterUse: boolean;
}

/** AWS managed policies that read every secret, for when their documents are not in the input. */
const READS_EVERY_SECRET =
  /^arn:aws[a-z-]*:iam::aws:policy\/(AdministratorAccess|PowerUserAccess|SecretsManagerReadWrite)$/;

const day = (iso: string) => iso.slice(0, 10);

interface Options {
  staleAfterDays: number;
  staleBefore: number;
  /** The broker's own principals as principalKey()s. */
  brokers: ReadonlySet<string>;
  secretTasks?: readonly SecretTask[] | undefined;
}

/** Each user's and role's statements on secrets: its own, its managed policies', its groups'. */
function statementsByPrincipal(facts: AccountFacts): Map<PrincipalFacts, SecretStatement[]> {
  const own = (p: PrincipalFacts): SecretStatement[] => [
    ...(p.secretStatements ?? []),
    ...p.attached.flatMap((arn) => {
      const policy = facts.policies.get(arn);
      if (policy) return policy.secretStatements ?? [];
      const m = READS_EVERY_SECRET.exec(arn);
      return m
        ? [
            {
              effect: "Allow" as const,
              resources: ["*"],
              notResource: false,
              conditional: false,
              policy: `managed policy ${m[1]}`,
            },
          ]
        : [];
    }),
  ];
  const groups = new Map<string, SecretStatement[]>();
  for (const p of facts.principals)
    if (p.kind === "group")
      groups.set(
        p.name,
        own(p).map((s) => ({ ...s, policy: `group ${p.name}'s ${s.policy}` })),
      );
  const out = new Map<PrincipalFacts, SecretStatement[]>();
  for (const p of facts.principals) {
    if (p.kind === "group" || (p.kind === "role" && p.path.startsWith("/aws-service-role/"))) continue;
    const list = [...own(p), ...p.groups.flatMap((g) => groups.get(g) ?? [])];
    if (list.length > 0) out.set(p, list);
  }
  return out;
}

/** Who other than the broker can read a secret, each as `principal through policy`. */
function readersOf(
  secret: SecretFacts,
  accountId: string,
  statements: ReadonlyMap<PrincipalFacts, SecretStatement[]>,
  brokers: ReadonlySet<string>,
): string[] {
  const readers: string[] = [];
  const sameAccount = secret.arn.split(":")[4] === accountId;
  if (sameAccount)
    for (const [p, list] of statements) {
      if (brokers.has(principalKey(p.arn))) continue;
      const policy = identityAllows(list, secret.arn);
      if (policy && !resourceDenies(secret.resourcePolicy, p.arn))
        readers.push(`${p.kind} ${p.arn} through ${policy}`);
    }
  for (const s of secret.resourcePolicy ?? []) {
    if (s.effect !== "Allow") continue;
    for (const principal of s.principals) {
      if (principal !== "*" && brokers.has(principalKey(principal))) continue;
      // The account's own root hands the decision to its identity policies, judged above.
      if (principal === `arn:${secret.arn.split(":")[1]}:iam::${accountId}:root`) continue;
      if (principal !== "*" && resourceDenies(secret.resourcePolicy, principal)) continue;
      if (
        principal === "*" &&
        (secret.resourcePolicy ?? []).some(
          (d) => d.effect === "Deny" && !d.conditional && (d.exceptPrincipals || d.principals.includes("*")),
        )
      )
        continue;
      const who = principal === "*" ? "anyone (Principal *)" : principal;
      readers.push(
        `${who} through the secret's resource policy${s.conditional ? " (with a condition)" : ""}`,
      );
    }
  }
  return [...new Set(readers)];
}

export function analyseSecrets(facts: AccountFacts, o: Options): PrincipalRecord[] {
  const statements = statementsByPrincipal(facts);
  const records: PrincipalRecord[] = [];
  for (const secret of facts.secrets ?? []) {
    const serving = (o.secretTasks ?? []).filter((t) => servesSecret(t.secretArn, secret.arn));
    const tasks = [...new Set(serving.map((t) => t.task))];
    const rotatedAfterUse = secret.rotationEnabled && serving.some((t) => t.rotateAfterUse);
    const r: PrincipalRecord = {
      kind: "secret",
      arn: secret.arn,
      name: secret.name,
      accountId: facts.accountId,
      secret: {
        tasks,
        rotatedAfterUse,
        rotationEnabled: secret.rotationEnabled,
        lastRotated: secret.lastRotated ?? null,
        lastAccessed: secret.lastAccessed ?? null,
        ...(tasks.length > 0 && !serving.some((t) => t.rotateAfterUse) ? { copiesMayLiveOn: true } : {}),
      },
    };
    const by = `task ${tasks.join(", ")}`;
    if (tasks.length === 0)
      r.staticSecret = "not served by any secret task: whoever can read it holds it for good";
    else if (secret.lastRotated && Date.parse(secret.lastRotated) < o.staleBefore)
      r.staticSecret = `served by ${by}, but last rotated ${day(secret.lastRotated)}, over ${o.staleAfterDays} days before the snapshot`;
    else if (!secret.lastRotated && secret.createdAt && Date.parse(secret.createdAt) < o.staleBefore)
      r.staticSecret = `served by ${by}, but never rotated since it was created on ${day(secret.createdAt)}`;
    else if (!secret.lastRotated && !secret.createdAt) r.staticSecret = `served by ${by}, but never rotated`;
    if (tasks.length > 0) {
      const readers = readersOf(secret, facts.accountId, statements, o.brokers);
      if (readers.length > 0) {
        r.secret!.readers = readers;
        r.bypass = `served by ${by}, but readable without the broker by ${readers.join("; ")}`;
      }
    }
    records.push(r);
  }
  return records;
}
