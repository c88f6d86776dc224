// The IAM credential report's columns and values, as IAM documents them: dates are ISO 8601; `N/A` means
// the thing does not exist (no password, a key never used), `no_information` that IAM has no record
// (password last used before October 2014), `not_supported` what the root row cannot have. Booleans are
// `true`/`false`, read case-insensitively. Rows arrive one at a time from whatever parses the CSV.
import { InventoryError } from "./errors.ts";
import type { CredentialRow, KeyFacts } from "./model.ts";

export const CREDENTIAL_REPORT_COLUMNS = [
  "user",
  "arn",
  "user_creation_time",
  "password_enabled",
  "password_last_used",
  "password_last_changed",
  "password_next_rotation",
  "mfa_active",
  "access_key_1_active",
  "access_key_1_last_rotated",
  "access_key_1_last_used_date",
  "access_key_1_last_used_region",
  "access_key_1_last_used_service",
  "access_key_2_active",
  "access_key_2_last_rotated",
  "access_key_2_last_used_date",
  "access_key_2_last_used_region",
  "access_key_2_last_used_service",
  "cert_1_active",
  "cert_1_last_rotated",
  "cert_2_active",
  "cert_2_last_rotated",
] as const;

/** What the analysis reads; a report without one of these cannot be judged. */
const REQUIRED = [
  "user",
  "arn",
  "user_creation_time",
  "password_enabled",
  "password_last_used",
  "access_key_1_active",
  "access_key_1_last_rotated",
  "access_key_1_last_used_date",
  "access_key_2_active",
  "access_key_2_last_rotated",
  "access_key_2_last_used_date",
];

const KNOWN = new Set<string>(CREDENTIAL_REPORT_COLUMNS);
const ABSENT = new Set(["n/a", "no_information", "not_supported", ""]);

/** Checks the header row: every column one IAM writes, none missing that the analysis needs. */
export function checkCredentialReportHeader(columns: readonly string[]): void {
  const unknown = columns.filter((c) => !KNOWN.has(c));
  if (unknown.length > 0)
    throw new InventoryError(
      `credential report: unknown column ${unknown.map((c) => JSON.stringify(c)).join(", ")} (is this an IAM credential report?)`,
    );
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  if (missing.length > 0) throw new InventoryError(`credential report: missing column ${missing.join(", ")}`);
}

function date(row: Record<string, string>, column: string, line: number): string | undefined {
  const v = (row[column] ?? "").trim();
  if (ABSENT.has(v.toLowerCase())) return undefined;
  const ms = Date.parse(v);
  if (Number.isNaN(ms))
    throw new InventoryError(`credential report line ${line}: ${column} is not a date: ${JSON.stringify(v)}`);
  return new Date(ms).toISOString();
}

function bool(row: Record<string, string>, column: string, line: number): boolean {
  const v = (row[column] ?? "").trim().toLowerCase();
  if (v === "true") return true;
  if (v === "false" || ABSENT.has(v)) return false;
  throw new InventoryError(
    `credential report line ${line}: ${column} is not true or false: ${JSON.stringify(v)}`,
  );
}

/** One data row (by column name) as a CredentialRow; `line` is its line number, for the error. */
export function credentialRow(row: Record<string, string>, line: number): CredentialRow {
  const arn = row["arn"] ?? "";
  const root = row["user"] === "<root_account>";
  if (!/^arn:aws[a-z-]*:iam::\d{12}:(root|user\/.+)$/.test(arn) || root !== arn.endsWith(":root"))
    throw new InventoryError(`credential report line ${line}: arn is not an IAM user or root ARN`);
  const key = (n: 1 | 2): KeyFacts => {
    const k: KeyFacts = {
      key: `access_key_${n}`,
      active: bool(row, `access_key_${n}_active`, line),
    };
    const lastUsed = date(row, `access_key_${n}_last_used_date`, line);
    const lastRotated = date(row, `access_key_${n}_last_rotated`, line);
    if (lastUsed) k.lastUsed = lastUsed;
    if (lastRotated) k.lastRotated = lastRotated;
    return k;
  };
  const out: CredentialRow = {
    user: row["user"] ?? "",
    arn,
    root,
    passwordEnabled: bool(row, "password_enabled", line),
    keys: [key(1), key(2)],
  };
  const createdAt = date(row, "user_creation_time", line);
  const passwordLastUsed = date(row, "password_last_used", line);
  if (createdAt) out.createdAt = createdAt;
  if (passwordLastUsed) out.passwordLastUsed = passwordLastUsed;
  return out;
}
