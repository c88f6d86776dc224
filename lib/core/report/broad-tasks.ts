// Tasks whose credential is broad: session-policy statements that allow wildcard actions or resources
// (`*`, `*:*`, `iam:*`, `service:*`, `s3:Get*`), NotAction/NotResource allows, an aws-sts task with no
// session policy (the role's whole permission), broad AWS-managed policies, and jwt scopes with `*`.
// A wildcard after a fixed resource prefix (arn:aws:s3:::bucket/prefix/*) scopes a resource and is not
// reported; a wildcard in the service, region, account or at the start of the resource part is.
import type { SessionPolicy, TaskConfig } from "../../config/schema.ts";
import type { BroadFinding, BroadTask } from "./report-types.ts";

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function actionBreadth(action: string): string | undefined {
  if (action === "*" || action === "*:*") return `action ${action} (every action of every service)`;
  const [service, name] = action.split(":", 2);
  if (name === "*" && service?.toLowerCase() === "iam") return `action ${action} (every IAM action)`;
  if (name === "*") return `action ${action} (every action of ${service})`;
  if (/[*?]/.test(action)) return `wildcard action ${action}`;
  return undefined;
}

function resourceBreadth(resource: string): string | undefined {
  if (resource === "*") return "resource * (every resource)";
  const parts = resource.split(":");
  if (parts[0] !== "arn" || parts.length < 6)
    return /^[*?]/.test(resource) ? `wildcard resource ${resource}` : undefined;
  const [, partition, service, region, account] = parts;
  const rest = parts.slice(5).join(":");
  if ([partition, service, region, account].some((p) => p !== undefined && /[*?]/.test(p)))
    return `wildcard resource ${resource} (in the partition, service, region or account)`;
  if (/^[*?]/.test(rest)) return `wildcard resource ${resource} (every resource of ${service})`;
  return undefined;
}

function statementFindings(policy: SessionPolicy): BroadFinding[] {
  const findings: BroadFinding[] = [];
  policy.Statement.forEach((s, i) => {
    if (s.Effect !== "Allow") return;
    const where = `Statement[${i}]${s.Sid ? ` (${s.Sid})` : ""}`;
    if (s.NotAction !== undefined)
      findings.push({
        where,
        reason: `NotAction ${list(s.NotAction).join(", ")} (allows every other action)`,
      });
    if (s.NotResource !== undefined)
      findings.push({
        where,
        reason: `NotResource ${list(s.NotResource).join(", ")} (allows every other resource)`,
      });
    for (const a of list(s.Action)) {
      const why = actionBreadth(a);
      if (why) findings.push({ where, reason: why });
    }
    for (const r of list(s.Resource)) {
      const why = resourceBreadth(r);
      if (why) findings.push({ where, reason: why });
    }
  });
  return findings;
}

const BROAD_MANAGED = /:policy\/(AdministratorAccess|PowerUserAccess|IAMFullAccess|[A-Za-z0-9]*FullAccess)$/;

export function taskFindings(task: TaskConfig): BroadFinding[] {
  if (task.provider === "jwt") {
    return task.scopes
      .filter((s) => s.includes("*"))
      .map((s) => ({ where: "scopes", reason: `wildcard scope ${s}` }));
  }
  // A postgres task's breadth is its group roles', checked against the server before each first issue.
  if (task.provider === "postgres") return [];
  // A secret task hands out one secret (or one key of it): its breadth is the copy that outlives a grant.
  if (task.provider === "secret")
    return task.rotateAfterUse
      ? []
      : [
          {
            where: "rotateAfterUse",
            reason:
              "not rotated after use: ending a grant is bookkeeping only, and a copy handed out may live on",
          },
        ];
  if (task.provider === "github") {
    // Admin levels and repository or organisation administration hand over more than one task needs.
    return Object.entries(task.permissions)
      .filter(([p, level]) => level === "admin" || (/administration$/.test(p) && level === "write"))
      .map(([p, level]) => ({ where: `permissions.${p}`, reason: `GitHub permission ${p}: ${level}` }));
  }
  const findings: BroadFinding[] = [];
  if (!task.sessionPolicy && task.managedPolicyArns.length === 0)
    findings.push({
      where: "sessionPolicy",
      reason: "no session policy: the credential carries every permission of the role",
    });
  if (task.sessionPolicy) findings.push(...statementFindings(task.sessionPolicy));
  task.managedPolicyArns.forEach((arn, i) => {
    if (BROAD_MANAGED.test(arn) && arn.includes(":iam::aws:"))
      findings.push({
        where: `managedPolicyArns[${i}]`,
        reason: `AWS managed policy ${arn.split("/").pop()}`,
      });
  });
  return findings;
}

export function broadTasks(tasks: readonly TaskConfig[]): BroadTask[] {
  return tasks
    .map((t) => ({
      task: t.name,
      provider: t.provider,
      sensitivity: t.sensitivity,
      findings: taskFindings(t),
    }))
    .filter((t) => t.findings.length > 0);
}
