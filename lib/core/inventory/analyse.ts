// Turns one account's facts into snapshot records: each principal with why it is privileged, owned or
// orphaned, stale, holds long-lived keys, or (a task role) can be assumed without the broker (CONTRACT §9).
// Service-linked roles (path /aws-service-role/) are left out of everything: nobody owns or reviews them.
import type { AccountFacts, PrincipalFacts } from "./model.ts";
import { principalKey } from "./policy-document.ts";
import type { KeyRecord, PrincipalRecord } from "./records.ts";
import { analyseSecrets, type SecretTask } from "./secret-analysis.ts";

const DAY_MS = 86_400_000;

/** AWS managed policies that make a holder privileged by name alone. */
const PRIVILEGED_MANAGED = new Set(["AdministratorAccess", "IAMFullAccess", "PowerUserAccess"]);

export interface AnalyseOptions {
  /** When the snapshot is taken (epoch ms): staleness is measured from it. */
  snapshotMs: number;
  staleAfterDays: number;
  /** Each replaced identity's ARN, with who replaces it (`workload web-deploy`, `task deploy-web`). */
  replaces: ReadonlyMap<string, readonly string[]>;
  /** The first grant (epoch ms) of each replacing workload or task, by the same label; absent = none yet. */
  firstGrantMs: ReadonlyMap<string, number>;
  /** The roleArn of every aws-sts task, with the task's name. */
  taskRoles: readonly { task: string; roleArn: string }[];
  /** The broker's own principals (role ARNs, or assumed-role ARNs of its sessions). */
  brokerPrincipals: readonly string[];
  /** Every secret task's secret (CONTRACT §15); absent = none. */
  secretTasks?: readonly SecretTask[];
}

export const isServiceLinked = (p: Pick<PrincipalFacts, "kind" | "path">): boolean =>
  p.kind === "role" && p.path.startsWith("/aws-service-role/");

const day = (iso: string) => iso.slice(0, 10);

function managedFinding(arn: string, facts: AccountFacts): string[] {
  const m = /^arn:aws[a-z-]*:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (m && PRIVILEGED_MANAGED.has(m[1]!)) return [`${m[1]} attached`];
  const policy = facts.policies.get(arn);
  return (policy?.findings ?? []).map((f) => `managed policy ${policy!.name} ${f}`);
}

function ownFindings(p: PrincipalFacts, facts: AccountFacts): string[] {
  return [...p.inlineFindings, ...p.attached.flatMap((a) => managedFinding(a, facts))];
}

export function analyseAccount(facts: AccountFacts, o: AnalyseOptions): PrincipalRecord[] {
  const { accountId } = facts;
  const staleBefore = o.snapshotMs - o.staleAfterDays * DAY_MS;
  const groupFindings = new Map<string, string[]>();
  for (const p of facts.principals) if (p.kind === "group") groupFindings.set(p.name, ownFindings(p, facts));
  const brokers = new Set(o.brokerPrincipals.map(principalKey));
  const taskRoles = new Map<string, string[]>();
  for (const t of o.taskRoles) {
    if (t.roleArn.split(":")[4] !== accountId) continue;
    const key = principalKey(t.roleArn);
    taskRoles.set(key, [...(taskRoles.get(key) ?? []), t.task]);
  }

  const keyRecords = (arn: string, replacedBy: readonly string[]): KeyRecord[] => {
    const row = facts.credentialRows.get(arn);
    const firsts = replacedBy.map((r) => o.firstGrantMs.get(r)).filter((t): t is number => t !== undefined);
    const firstGrant = firsts.length > 0 ? Math.min(...firsts) : undefined;
    return (row?.keys ?? [])
      .filter((k) => k.active)
      .map((k) => ({
        key: k.key,
        lastUsed: k.lastUsed ?? null,
        lastRotated: k.lastRotated ?? null,
        replacedBy: [...replacedBy],
        usedAfterReplacement:
          firstGrant !== undefined && k.lastUsed !== undefined && Date.parse(k.lastUsed) > firstGrant,
      }));
  };

  const records: PrincipalRecord[] = [];
  const seenTaskRoles = new Set<string>();
  for (const p of facts.principals) {
    if (isServiceLinked(p)) continue;
    const r: PrincipalRecord = { kind: p.kind, arn: p.arn, name: p.name, accountId };
    const privileged = ownFindings(p, facts);
    for (const g of p.groups)
      for (const f of groupFindings.get(g) ?? []) privileged.push(`member of group ${g} (${f})`);
    if (privileged.length > 0) r.privileged = privileged;

    if (p.kind !== "group") {
      const replacedBy = o.replaces.get(p.arn) ?? [];
      if (p.ownerTags.length > 0) r.owner = `tag ${p.ownerTags.join(", ")}`;
      else if (replacedBy.length > 0) r.owner = `replaced by ${replacedBy.join(", ")}`;
      else r.orphaned = "no owner tag and not in any replaces";

      // A role's last use is RoleLastUsed; a user's the newest of its password and keys.
      const row = p.kind === "user" ? facts.credentialRows.get(p.arn) : undefined;
      const uses =
        p.kind === "role"
          ? [p.lastUsed]
          : [row?.passwordLastUsed, ...(row?.keys ?? []).map((k) => k.lastUsed)];
      const lastUsed = uses
        .filter((u): u is string => u !== undefined)
        .sort()
        .at(-1);
      r.lastUsed = lastUsed ?? null;
      const created = p.createdAt ?? row?.createdAt;
      if (lastUsed !== undefined && Date.parse(lastUsed) < staleBefore)
        r.stale = `last used ${day(lastUsed)}, over ${o.staleAfterDays} days before the snapshot`;
      else if (lastUsed === undefined && created !== undefined && Date.parse(created) < staleBefore)
        r.stale = `never used since it was created on ${day(created)}`;

      if (p.kind === "user") {
        const keys = keyRecords(p.arn, replacedBy);
        if (keys.length > 0) r.keys = keys;
      }
    }

    if (p.kind === "role") {
      const key = principalKey(p.arn);
      const tasks = taskRoles.get(key);
      if (tasks) {
        seenTaskRoles.add(key);
        const others = p.trustedBy.filter((t) => !(t.type === "AWS" && brokers.has(principalKey(t.id))));
        if (others.length > 0) r.bypass = others.map((t) => t.label).join("; ");
      }
    }
    records.push(r);
  }

  // The root user is no IAM user to own or review, but its access keys are long-lived keys (never replaced).
  for (const row of facts.credentialRows.values()) {
    if (!row.root) continue;
    const keys = keyRecords(row.arn, []);
    if (keys.length > 0) records.push({ kind: "root", arn: row.arn, name: row.user, accountId, keys });
  }

  for (const t of o.taskRoles) {
    const key = principalKey(t.roleArn);
    if (t.roleArn.split(":")[4] !== accountId || seenTaskRoles.has(key)) continue;
    seenTaskRoles.add(key);
    records.push({
      kind: "role",
      arn: t.roleArn,
      name: t.roleArn.slice(t.roleArn.lastIndexOf("/") + 1),
      accountId,
      missing: true,
      bypass: `task ${taskRoles.get(key)!.join(", ")} names this role, but it is not in the account's snapshot`,
    });
  }
  if (facts.secrets) records.push(...analyseSecrets(facts, { ...o, staleBefore, brokers }));
  return records;
}
