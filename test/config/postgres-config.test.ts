// The `databases` and `postgres` task config (CONTRACT §8.2): defaults, limits, and the mistakes refused at
// load — a pg_* group role above all, since it carries server powers without any role attribute.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { reachesDatabase } from "../../lib/config/postgres-schema.ts";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { runCli } from "../client/run-cli.ts";

const database = {
  name: "reports-db",
  host: "reports.cluster-abc.us-east-1.rds.amazonaws.com",
  database: "reports",
  admin: { secretArn: "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/reports-AbCdEf" },
};
const task = {
  name: "read-reports-db",
  provider: "postgres",
  database: "reports-db",
  memberOf: ["reporting_read"],
};

const config = (
  overrides: {
    task?: Record<string, unknown>;
    database?: Record<string, unknown>;
    raw?: Record<string, unknown>;
  } = {},
) => ({
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [{ name: "gh", issuer: "https://token.actions.githubusercontent.com" }],
  tasks: [{ ...task, ...overrides.task }],
  databases: [{ ...database, ...overrides.database }],
  policies: ["policies/*.cedar"],
  ...overrides.raw,
});
const okPolicy = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];

function problems(raw: unknown): string[] {
  try {
    resolveConfig(raw, okPolicy, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("postgres config", () => {
  it("accepts the contract's example and fills the defaults", () => {
    const { config: c } = resolveConfig(config(), okPolicy, "x");
    expect(c.databases[0]).toMatchObject({ port: 5432, tls: "verify-full" });
    expect(c.tasks[0]).toMatchObject({ connectionLimit: 2, maxDurationSeconds: 3600, sensitivity: "medium" });
  });

  it.each([
    [
      "a built-in pg_* role",
      { memberOf: ["pg_read_server_files"] },
      /tasks\[0\]\.memberOf\[0\]: may not be a built-in pg_\* role/,
    ],
    ["a PG_* role in another case", { memberOf: ["PG_Monitor"] }, /may not be a built-in pg_\* role/],
    ["the broker's own cb_* role", { memberOf: ["cb_x"] }, /may not be one of the broker's own/],
    ["PUBLIC", { memberOf: ["public"] }, /may not be PUBLIC/],
    ["no group role", { memberOf: [] }, /must name at least one group role/],
    [
      "eleven group roles",
      { memberOf: Array.from({ length: 11 }, (_, i) => `g${i}`) },
      /at most 10 group roles/,
    ],
    ["a repeated group role", { memberOf: ["a", "a"] }, /must not repeat a role/],
    ["a quote in a role name", { memberOf: ['a"b'] }, /must be a PostgreSQL role name/],
    ["a connection limit of 0", { connectionLimit: 0 }, /connectionLimit/],
    ["a connection limit of 101", { connectionLimit: 101 }, /connectionLimit/],
    ["a duration under 300 s", { maxDurationSeconds: 299 }, /maxDurationSeconds/],
    ["a duration over 12 h", { maxDurationSeconds: 43_201 }, /maxDurationSeconds/],
    ["an unknown database", { database: "elsewhere" }, /tasks\[0\]\.database: no database named elsewhere/],
    ["an unknown key", { roles: ["x"] }, /Unrecognized key: "roles"/],
  ])("refuses a task with %s", (_what, overrides, pattern) => {
    expect(problems(config({ task: overrides })).join("\n")).toMatch(pattern);
  });

  it.each([
    [
      "both secretArn and urlEnv",
      { admin: { ...database.admin, urlEnv: "PG_URL" } },
      /exactly one of secretArn or urlEnv/,
    ],
    ["no admin credential", { admin: {} }, /exactly one of secretArn or urlEnv/],
    [
      "an ARN that is not a secret",
      { admin: { secretArn: "arn:aws:kms:us-east-1:111122223333:key/x" } },
      /Secrets Manager secret ARN/,
    ],
    ["an unknown tls mode", { tls: "prefer" }, /tls/],
    ["no region", { regions: [] }, /databases\[0\]\.regions: must name at least one region/],
    [
      "a region that is not a region name",
      { regions: ["US-East-1"] },
      /regions\[0\]: must be an AWS region name/,
    ],
    ["an availability zone for a region", { regions: ["us-east-1a"] }, /must be an AWS region name/],
    ["a repeated region", { regions: ["us-east-1", "us-east-1"] }, /must not repeat a region/],
    ["a port out of range", { port: 70_000 }, /port/],
  ])("refuses a database with %s", (_what, overrides, pattern) => {
    expect(problems(config({ database: overrides })).join("\n")).toMatch(pattern);
  });

  it("keeps a database without regions as before: every region reaches it", () => {
    const { config: c } = resolveConfig(config(), okPolicy, "x");
    expect(c.databases[0]).not.toHaveProperty("regions");
    expect(reachesDatabase(c.databases[0]!, "eu-west-1")).toBe(true);
    expect(reachesDatabase(c.databases[0]!, undefined)).toBe(true);
  });

  it("accepts the regions that reach a database, and only those reach it", () => {
    const regions = ["us-east-1", "us-gov-west-1"];
    const { config: c } = resolveConfig(config({ database: { regions } }), okPolicy, "x");
    expect(c.databases[0]!.regions).toEqual(regions);
    expect(reachesDatabase(c.databases[0]!, "us-gov-west-1")).toBe(true);
    expect(reachesDatabase(c.databases[0]!, "us-west-2")).toBe(false);
    // A process that does not say its region (dev, tests) reaches every database.
    expect(reachesDatabase(c.databases[0]!, undefined)).toBe(true);
  });

  it("refuses two databases of one name", () => {
    expect(problems(config({ raw: { databases: [database, database] } })).join("\n")).toMatch(
      /databases\[1\]\.name: duplicate name reports-db/,
    );
  });

  it("fails `credbroker policy validate` on a pg_* group role, naming the path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-pg-config-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "p.cedar"), okPolicy[0]!.text);
    await writeFile(
      join(dir, "broker.config.json"),
      JSON.stringify(config({ task: { memberOf: ["pg_execute_server_program"] } })),
    );
    const run = await runCli(["policy", "validate", "--config", join(dir, "broker.config.json")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("tasks[0].memberOf[0]: may not be a built-in pg_* role");
  });
});
