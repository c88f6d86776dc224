// One account's IAM with a known answer for every verdict (CONTRACT §9), in the shapes the AWS CLI writes:
// the JSON of get-account-authorization-details (documents decoded) and the credential report CSV. The
// loopback IAM fixture serves the same account over the Query protocol (documents URL-encoded).
import { CREDENTIAL_REPORT_COLUMNS } from "../../lib/core/inventory/credential-report.ts";
import { NOW } from "../support/broker.ts";

export const ACCOUNT = "111122223333";
export const DAY = 86_400_000;
const a = (rest: string) => `arn:aws:iam::${ACCOUNT}:${rest}`;
const at = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString().replace(".000Z", "+00:00");
const doc = (...Statement: Record<string, unknown>[]) => ({ Version: "2012-10-17", Statement });
const allow = (Action: unknown, Resource: unknown = "*") => ({ Effect: "Allow", Action, Resource });
const trust = (Principal: unknown, Action = "sts:AssumeRole") => ({ Effect: "Allow", Principal, Action });
const aws = (name: string) => ({ PolicyName: name, PolicyArn: `arn:aws:iam::aws:policy/${name}` });

export const BROKER_ROLE = a("role/credbroker/credbroker-token");
export const ARN = {
  alice: a("user/alice"),
  ciDeployer: a("user/ci-deployer"),
  oldBot: a("user/old-bot"),
  reporter: a("user/reporter"),
  newbie: a("user/newbie"),
  tfUser: a("user/tf-user"),
  root: a("root"),
  webDeployer: a("role/web-deployer"),
  dbRotator: a("role/db-rotator"),
  reportsReader: a("role/reports-reader"),
  appRuntime: a("role/app-runtime"),
  breakGlass: a("role/break-glass"),
  lambdaExec: a("role/service/lambda-exec"),
  gone: a("role/gone"),
  admins: a("group/admins"),
  deployers: a("group/deployers"),
  devs: a("group/devs"),
};

const user = (name: string, extra: Record<string, unknown> = {}) => ({
  Path: "/",
  UserName: name,
  UserId: `AIDA${name.toUpperCase().replace(/-/g, "")}`,
  Arn: a(`user/${name}`),
  CreateDate: at(300),
  UserPolicyList: [],
  GroupList: [],
  AttachedManagedPolicies: [],
  Tags: [],
  ...extra,
});
const role = (name: string, principal: unknown, extra: Record<string, unknown> = {}) => ({
  Path: "/",
  RoleName: name,
  RoleId: `AROA${name.toUpperCase().replace(/-/g, "")}`,
  Arn: a(`role/${name}`),
  CreateDate: at(400),
  AssumeRolePolicyDocument: doc(trust(principal)),
  InstanceProfileList: [],
  RolePolicyList: [],
  AttachedManagedPolicies: [],
  Tags: [],
  RoleLastUsed: {},
  ...extra,
});

export function authorizationDetails() {
  return {
    UserDetailList: [
      user("alice", { GroupList: ["admins"], Tags: [{ Key: "owner", Value: "alice@acme.test" }] }),
      user("ci-deployer", { GroupList: ["deployers"] }),
      user("old-bot", { CreateDate: at(200) }),
      user("reporter", {
        Tags: [{ Key: "team", Value: "data" }],
        UserPolicyList: [{ PolicyName: "hop", PolicyDocument: doc(allow("sts:AssumeRole")) }],
      }),
      user("newbie", { CreateDate: at(10), GroupList: ["devs"] }),
      user("tf-user", {
        Tags: [{ Key: "owner", Value: "platform" }],
        AttachedManagedPolicies: [aws("IAMFullAccess")],
      }),
    ],
    GroupDetailList: [
      {
        Path: "/",
        GroupName: "admins",
        GroupId: "AGPAADMINS",
        Arn: ARN.admins,
        CreateDate: at(500),
        GroupPolicyList: [],
        AttachedManagedPolicies: [aws("AdministratorAccess")],
      },
      {
        Path: "/",
        GroupName: "deployers",
        GroupId: "AGPADEPLOYERS",
        Arn: ARN.deployers,
        CreateDate: at(500),
        GroupPolicyList: [],
        AttachedManagedPolicies: [{ PolicyName: "passer", PolicyArn: a("policy/passer") }],
      },
      {
        Path: "/",
        GroupName: "devs",
        GroupId: "AGPADEVS",
        Arn: ARN.devs,
        CreateDate: at(500),
        GroupPolicyList: [
          { PolicyName: "read", PolicyDocument: doc(allow(["s3:GetObject"], "arn:aws:s3:::acme/*")) },
        ],
        AttachedManagedPolicies: [],
      },
    ],
    RoleDetailList: [
      role(
        "web-deployer",
        { AWS: BROKER_ROLE },
        {
          AssumeRolePolicyDocument: doc(
            trust({ AWS: BROKER_ROLE }),
            trust(
              { Federated: a("oidc-provider/token.actions.githubusercontent.com") },
              "sts:AssumeRoleWithWebIdentity",
            ),
          ),
          Tags: [{ Key: "owner", Value: "team-web" }],
          RoleLastUsed: { LastUsedDate: at(1), Region: "us-east-1" },
        },
      ),
      role(
        "db-rotator",
        { AWS: BROKER_ROLE },
        { Tags: [{ Key: "Owner", Value: "team-db" }], RoleLastUsed: { LastUsedDate: at(3) } },
      ),
      role(
        "reports-reader",
        { AWS: [BROKER_ROLE, "444455556666"] },
        {
          Tags: [{ Key: "owner", Value: "team-data" }],
          RoleLastUsed: { LastUsedDate: at(30) },
        },
      ),
      role(
        "app-runtime",
        { Service: "ec2.amazonaws.com" },
        {
          AttachedManagedPolicies: [{ PolicyName: "legacy-admin", PolicyArn: a("policy/legacy-admin") }],
        },
      ),
      role(
        "break-glass",
        { AWS: a("root") },
        {
          AttachedManagedPolicies: [aws("AdministratorAccess")],
          Tags: [{ Key: "owner", Value: "security" }],
          RoleLastUsed: { LastUsedDate: at(100) },
        },
      ),
      role("lambda-exec", "*", {
        Path: "/service/",
        Arn: ARN.lambdaExec,
        Tags: [{ Key: "team", Value: "apps" }],
        RoleLastUsed: { LastUsedDate: at(20) },
      }),
      role(
        "AWSServiceRoleForSupport",
        { Service: "support.amazonaws.com" },
        {
          Path: "/aws-service-role/support.amazonaws.com/",
          Arn: a("role/aws-service-role/support.amazonaws.com/AWSServiceRoleForSupport"),
          AttachedManagedPolicies: [aws("AdministratorAccess")],
        },
      ),
      role(
        "AWSServiceRoleForOrganizations",
        { Service: "organizations.amazonaws.com" },
        {
          Path: "/aws-service-role/organizations.amazonaws.com/",
          Arn: a("role/aws-service-role/organizations.amazonaws.com/AWSServiceRoleForOrganizations"),
        },
      ),
    ],
    Policies: [
      {
        PolicyName: "passer",
        PolicyId: "ANPAPASSER",
        Arn: a("policy/passer"),
        Path: "/",
        DefaultVersionId: "v1",
        AttachmentCount: 1,
        IsAttachable: true,
        PolicyVersionList: [
          {
            Document: doc(allow("iam:PassRole")),
            VersionId: "v1",
            IsDefaultVersion: true,
            CreateDate: at(500),
          },
        ],
      },
      {
        PolicyName: "legacy-admin",
        PolicyId: "ANPALEGACY",
        Arn: a("policy/legacy-admin"),
        Path: "/",
        DefaultVersionId: "v2",
        AttachmentCount: 1,
        IsAttachable: true,
        // The old version allowed everything; only the default one is in force.
        PolicyVersionList: [
          { Document: doc(allow("*")), VersionId: "v1", IsDefaultVersion: false, CreateDate: at(500) },
          {
            Document: doc(allow("s3:ListBucket", "arn:aws:s3:::acme")),
            VersionId: "v2",
            IsDefaultVersion: true,
            CreateDate: at(100),
          },
        ],
      },
    ],
  };
}

type Row = Partial<Record<(typeof CREDENTIAL_REPORT_COLUMNS)[number], string>>;
const key = (n: 1 | 2, active: string, lastUsed = "N/A", rotated = at(250)): Row => ({
  [`access_key_${n}_active`]: active,
  [`access_key_${n}_last_rotated`]: rotated,
  [`access_key_${n}_last_used_date`]: lastUsed,
  [`access_key_${n}_last_used_region`]: lastUsed === "N/A" ? "N/A" : "us-east-1",
  [`access_key_${n}_last_used_service`]: lastUsed === "N/A" ? "N/A" : "s3",
});
const noKey = (n: 1 | 2): Row => key(n, "false", "N/A", "N/A");
const row = (name: string, arn: string, extra: Row): Row => ({
  user: name,
  arn,
  user_creation_time: at(300),
  password_enabled: "false",
  password_last_used: "N/A",
  password_last_changed: "N/A",
  password_next_rotation: "N/A",
  mfa_active: "false",
  ...noKey(1),
  ...noKey(2),
  cert_1_active: "false",
  cert_1_last_rotated: "N/A",
  cert_2_active: "false",
  cert_2_last_rotated: "N/A",
  ...extra,
});

export function credentialReportRows(): Row[] {
  return [
    row("<root_account>", ARN.root, {
      user_creation_time: at(900),
      password_enabled: "not_supported",
      password_last_used: at(40),
      password_next_rotation: "not_supported",
      mfa_active: "TRUE",
      ...key(1, "true", at(300)),
    }),
    row("alice", ARN.alice, { password_enabled: "TRUE", password_last_used: at(5), mfa_active: "true" }),
    // Key 1 used after web-deploy's first grant (5 days ago); key 2 switched off.
    row("ci-deployer", ARN.ciDeployer, { ...key(1, "true", at(2)), ...key(2, "False", at(200)) }),
    row("old-bot", ARN.oldBot, {
      user_creation_time: at(200),
      ...key(1, "true"),
      ...key(2, "true", at(150)),
    }),
    row("reporter", ARN.reporter, {
      password_enabled: "true",
      password_last_used: "no_information",
      ...key(1, "true", at(1)),
    }),
    row("newbie", ARN.newbie, { user_creation_time: at(10) }),
    row("tf-user", ARN.tfUser, key(1, "true", at(10))),
  ];
}

/** The CSV as IAM writes it: a header, then one line per row, every value as it is. */
export function credentialReportCsv(
  rows = credentialReportRows(),
  columns: readonly string[] = CREDENTIAL_REPORT_COLUMNS,
): string {
  return [
    columns.join(","),
    ...rows.map((r) => columns.map((c) => (r as Record<string, string>)[c] ?? "N/A").join(",")),
  ].join("\n");
}

/** The tasks and workloads the config gives the scenario. */
export const SCENARIO_TASKS = [
  { name: "deploy-web", provider: "aws-sts", roleArn: ARN.webDeployer, replaces: [ARN.tfUser] },
  { name: "rotate-db", provider: "aws-sts", roleArn: a("role/db/db-rotator") },
  { name: "read-reports", provider: "aws-sts", roleArn: ARN.reportsReader },
  { name: "invoke", provider: "aws-sts", roleArn: ARN.lambdaExec },
  { name: "ghost-task", provider: "aws-sts", roleArn: ARN.gone },
  { name: "elsewhere", provider: "aws-sts", roleArn: "arn:aws:iam::999988887777:role/other" },
  { name: "tokens", provider: "jwt", audience: "https://x.test" },
];
export const SCENARIO_WORKLOADS = [
  {
    name: "web-deploy",
    issuer: "test",
    subject: "repo:acme/web:*",
    owner: "team-web",
    replaces: [ARN.ciDeployer],
  },
];

/** What every verdict counts for the scenario, with break-glass reviewed. */
export const EXPECTED_COUNTS = {
  "privileged-unreviewed": 6,
  "orphaned-principals": 3,
  "stale-principals": 3,
  "long-lived-keys": 6,
  "broker-bypass": 4,
  "static-secrets": 0,
};
