// An organisation for the fan-out tests and the bench: `count` member accounts of the IAM fixture, each with
// ten roles of known verdicts and a root without keys, listed by Organizations beside a few accounts the
// sync must leave out (suspended, closed, excluded).
import { CREDENTIAL_REPORT_COLUMNS } from "../../lib/core/inventory/credential-report.ts";
import { DEBT_CRITERIA, type DebtCounts } from "../../lib/core/inventory/records.ts";
import type { FixtureAccount } from "../fixtures/iam-inventory.ts";
import type { FixtureOrgAccount } from "../fixtures/organizations.ts";
import { NOW } from "../support/broker.ts";
import { credentialReportCsv } from "./scenario.ts";

export const MANAGEMENT = "111122223333";
export const LISTING_ROLE = `arn:aws:iam::${MANAGEMENT}:role/credbroker-org-list`;
export const MEMBER_ROLE_NAME = "credbroker-inventory";
const DAY = 86_400_000;
const at = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString().replace(".000Z", "+00:00");

export const memberAccount = (i: number) => String(200_000_000_000 + i);

/**
 * Per synced account: r0 is an administrator; r0–r4 are owned and used; r5–r9 orphaned and stale; every
 * other criterion (whatever DEBT_CRITERIA holds) counts 0.
 */
export const PER_ACCOUNT_COUNTS = Object.fromEntries(
  DEBT_CRITERIA.map((c) => [
    c,
    (
      { "privileged-unreviewed": 1, "orphaned-principals": 5, "stale-principals": 5 } as Record<
        string,
        number
      >
    )[c] ?? 0,
  ]),
) as DebtCounts;

function account(id: string): FixtureAccount {
  const roles = Array.from({ length: 10 }, (_, n) => ({
    Path: "/",
    RoleName: `r${n}`,
    RoleId: `AROA${id}R${n}`,
    Arn: `arn:aws:iam::${id}:role/r${n}`,
    CreateDate: at(400),
    AssumeRolePolicyDocument: {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }],
    },
    InstanceProfileList: [],
    RolePolicyList: [],
    AttachedManagedPolicies:
      n === 0
        ? [{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }]
        : [],
    Tags: n < 5 ? [{ Key: "owner", Value: `team-${n}` }] : [],
    RoleLastUsed: n < 5 ? { LastUsedDate: at(3) } : {},
  }));
  const root = Object.fromEntries(CREDENTIAL_REPORT_COLUMNS.map((c) => [c, "N/A"]));
  Object.assign(root, {
    user: "<root_account>",
    arn: `arn:aws:iam::${id}:root`,
    user_creation_time: at(900),
    password_enabled: "not_supported",
    password_last_used: at(10),
    password_next_rotation: "not_supported",
    mfa_active: "true",
    access_key_1_active: "false",
    access_key_2_active: "false",
    cert_1_active: "false",
    cert_2_active: "false",
  });
  return {
    details: { UserDetailList: [], GroupDetailList: [], RoleDetailList: roles, Policies: [] },
    credentialReportCsv: credentialReportCsv([root]),
  };
}

export interface OrganizationScenario {
  /** Every member account's IAM, by id. */
  iam: Record<string, FixtureAccount>;
  /** What Organizations lists: the members, then the ones left out. */
  listed: FixtureOrgAccount[];
  members: string[];
  excluded: string[];
  inactive: string[];
}

export function organizationScenario(count: number): OrganizationScenario {
  const members = Array.from({ length: count }, (_, i) => memberAccount(i));
  const excluded = [memberAccount(count), memberAccount(count + 1)];
  const inactive = [memberAccount(count + 2), memberAccount(count + 3)];
  const iam: Record<string, FixtureAccount> = {};
  for (const id of [...members, ...excluded, ...inactive]) iam[id] = account(id);
  return {
    iam,
    listed: [
      ...members.map((accountId) => ({ accountId })),
      ...excluded.map((accountId) => ({ accountId })),
      { accountId: inactive[0]!, state: "SUSPENDED" as const },
      { accountId: inactive[1]!, state: "PENDING_CLOSURE" as const },
    ],
    members,
    excluded,
    inactive,
  };
}
