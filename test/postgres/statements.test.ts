// The pure parts of the postgres provider: the SCRAM verifier (checked against RFC 7677's worked example),
// identifiers quoted as identifiers, literals only of a known shape, and role names from grant ids.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { newId } from "../../lib/core/ids.ts";
import { groupRoleProblems } from "../../lib/core/providers/postgres/group-roles.ts";
import { grantIdOfRole, roleNameFor } from "../../lib/core/providers/postgres/role-name.ts";
import { newPassword, scramSha256Verifier } from "../../lib/core/providers/postgres/scram.ts";
import { createRoleStatement, quoteIdent } from "../../lib/core/providers/postgres/sql.ts";

describe("SCRAM-SHA-256 verifier", () => {
  it("matches RFC 7677's example: the server signature it implies is the RFC's", () => {
    // RFC 7677 §3: user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations.
    const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
    const verifier = scramSha256Verifier("pencil", salt, 4096);
    const m = /^SCRAM-SHA-256\$4096:([^$]+)\$([^:]+):(.+)$/.exec(verifier)!;
    expect(m[1]).toBe("W22ZaJ0SNY7soEsUEjb6gQ==");
    const serverKey = Buffer.from(m[3]!, "base64");
    const authMessage =
      "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const signature = createHmac("sha256", serverKey).update(authMessage).digest("base64");
    expect(signature).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });

  it("uses a fresh 16-byte salt each time", () => {
    const a = scramSha256Verifier("same-password");
    const b = scramSha256Verifier("same-password");
    expect(a).not.toBe(b);
    expect(Buffer.from(a.split("$")[1]!.split(":")[1]!, "base64")).toHaveLength(16);
  });

  it("makes passwords of 32 random bytes, safe in URLs and shells", () => {
    const p = newPassword();
    expect(p).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(p, "base64url")).toHaveLength(32);
  });
});

describe("statements", () => {
  it.each([
    ["reporting_read", '"reporting_read"'],
    ['we"ird', '"we""ird"'],
    ["Mixed Case; DROP ROLE x", '"Mixed Case; DROP ROLE x"'],
  ])("quotes %s as an identifier", (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });

  it("refuses an identifier with a NUL", () => {
    expect(() => quoteIdent("a\0b")).toThrow(TypeError);
  });

  it("builds the contract's CREATE ROLE and refuses a literal of another shape", () => {
    const input = {
      role: "cb_x",
      memberOf: ["a", "b"],
      connectionLimit: 2,
      validUntil: "2026-12-01T10:00:00Z",
      verifier: scramSha256Verifier("pw-for-test"),
    };
    expect(createRoleStatement(input).text).toBe(
      `CREATE ROLE "cb_x" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT CONNECTION LIMIT 2 VALID UNTIL '2026-12-01T10:00:00Z' PASSWORD '${input.verifier}' IN ROLE "a", "b"`,
    );
    expect(() => createRoleStatement({ ...input, verifier: "plain'; DROP ROLE x; --" })).toThrow(TypeError);
    expect(() => createRoleStatement({ ...input, validUntil: "infinity" })).toThrow(TypeError);
  });

  it("names roles cb_<grantId> and knows its own roles from others", () => {
    const id = newId(Date.parse("2026-12-01T10:00:00Z"));
    const role = roleNameFor(id);
    expect(role).toBe(`cb_${id}`);
    expect(Buffer.byteLength(role)).toBeLessThanOrEqual(63);
    expect(grantIdOfRole(role)).toBe(id);
    expect(grantIdOfRole("cb_not_a_grant")).toBeUndefined();
    expect(grantIdOfRole("reporting_read")).toBeUndefined();
    expect(() => roleNameFor('x"; DROP')).toThrow(TypeError);
  });
});

describe("group role verdicts", () => {
  const row = (start: string, rolname: string, powers: Record<string, boolean> = {}) => ({
    start,
    rolname,
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
    ...powers,
  });

  it("accepts plain group roles", () => {
    expect(groupRoleProblems(["a"], [row("a", "a"), row("a", "plain_parent")])).toEqual([]);
  });

  it.each([
    ["rolbypassrls", "has BYPASSRLS"],
    ["rolreplication", "has REPLICATION"],
    ["rolcreatedb", "has CREATEDB"],
  ])("refuses a group with %s", (column, problem) => {
    expect(groupRoleProblems(["a"], [row("a", "a", { [column]: true })])).toEqual([{ role: "a", problem }]);
  });

  it("refuses a group whose parent has a power or is built in, and a group that does not exist", () => {
    expect(
      groupRoleProblems(
        ["a", "b", "c"],
        [row("a", "a"), row("a", "admins", { rolcreaterole: true }), row("b", "b"), row("b", "pg_monitor")],
      ),
    ).toEqual([
      { role: "a", problem: "has CREATEROLE through its membership of admins" },
      { role: "b", problem: "is a member of the built-in role pg_monitor" },
      { role: "c", problem: "does not exist" },
    ]);
  });
});
