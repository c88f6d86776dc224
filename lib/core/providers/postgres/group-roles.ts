// Whether a task's group roles are fit to hand out (CONTRACT §8.2): each exists, has no power beyond
// privileges, and belongs to no role that has one, nor to a built-in pg_* role (those carry server-level
// powers without any attribute). Pure: the rows come from sql.ts's groupRolesStatement.
import type { Row } from "./ports.ts";

const POWERS = [
  ["rolsuper", "SUPERUSER"],
  ["rolcreaterole", "CREATEROLE"],
  ["rolcreatedb", "CREATEDB"],
  ["rolreplication", "REPLICATION"],
  ["rolbypassrls", "BYPASSRLS"],
] as const;

export interface GroupRoleProblem {
  role: string;
  problem: string;
}

export function groupRoleProblems(roles: readonly string[], rows: readonly Row[]): GroupRoleProblem[] {
  const problems: GroupRoleProblem[] = [];
  for (const role of roles) {
    const own = rows.filter((r) => r["start"] === role);
    if (!own.some((r) => r["rolname"] === role)) {
      problems.push({ role, problem: "does not exist" });
      continue;
    }
    for (const row of own) {
      const via = row["rolname"] === role ? "" : ` through its membership of ${String(row["rolname"])}`;
      for (const [column, power] of POWERS)
        if (row[column] === true) problems.push({ role, problem: `has ${power}${via}` });
      if (String(row["rolname"]).startsWith("pg_"))
        problems.push({ role, problem: `is a member of the built-in role ${String(row["rolname"])}` });
    }
  }
  return problems;
}
