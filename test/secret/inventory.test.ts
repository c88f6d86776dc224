// The inventory of static secrets (CONTRACT §9, §15): an account with brokered and unbrokered, rotated and
// stale secrets, from `aws secretsmanager list-secrets` JSON (--secrets FILE) and live (ListSecrets and
// GetResourcePolicy against the Secrets Manager stand-in), counted exactly; a role whose policy allows
// secretsmanager:GetSecretValue on arn:…:secret:ci/* listed as a bypass of the brokered ci/datadog secret,
// and so is every other reader but the broker — unless a Deny (a statement, or the resource policy's fence
// around the broker) stops it.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IAMClient } from "@aws-sdk/client-iam";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { callerIdentity, readAccountLive } from "../../lib/aws/iam-inventory.ts";
import { DynamoInventoryStore } from "../../lib/aws/inventory-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { inventoryCommand, type LiveIam } from "../../lib/cli/inventory.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import type { GovernanceReport } from "../../lib/core/report/report-types.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../fixtures/iam-inventory.ts";
import {
  type SecretsManagerFixture,
  startSecretsManagerFixture,
} from "../fixtures/secrets-manager-server.ts";
import { capture } from "../governance/capture.ts";
import { credentialReportCsv, credentialReportRows } from "../inventory/scenario.ts";
import { closeSharedDynamo, NOW, sharedDynamo } from "../support/broker.ts";

const ACCOUNT = "111122223333";
const DAY = 86_400_000;
const iam = (path: string) => `arn:aws:iam::${ACCOUNT}:${path}`;
const secret = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}`;
const BROKER = iam("role/credbroker/credbroker-token");

const S = {
  datadog: secret("ci/datadog-AbCdEf"),
  legacy: secret("legacy/db-password-XyZ123"),
  sentry: secret("ci/sentry-Zz9Zz9"),
  npm: secret("ci/npm-token-QwErTy"),
  pagerduty: secret("ops/pagerduty-AaBbCc"),
};

/** The tasks: datadog rotated after use; legacy served plainly (by its partial ARN); sentry wants rotation it lacks. */
const TASKS = [
  { name: "datadog-key", provider: "secret", secretArn: S.datadog, jsonKey: "api_key", rotateAfterUse: true },
  { name: "legacy-password", provider: "secret", secretArn: secret("legacy/db-password") },
  { name: "sentry-dsn", provider: "secret", secretArn: S.sentry, rotateAfterUse: true },
];

const iso = (daysAgo: number) => new Date(NOW - daysAgo * DAY).toISOString();

/** Deny everyone but the broker: the fence a resource policy puts around a brokered secret. */
const FENCE = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Deny",
      Principal: "*",
      Action: "secretsmanager:GetSecretValue",
      Resource: "*",
      Condition: { StringNotEquals: { "aws:PrincipalArn": BROKER } },
    },
  ],
};
const SENTRY_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Principal: { AWS: "444455556666" },
      Action: "secretsmanager:GetSecretValue",
      Resource: "*",
    },
    { Effect: "Allow", Principal: { AWS: BROKER }, Action: "secretsmanager:*", Resource: "*" },
  ],
};

const SECRETS = [
  {
    ARN: S.datadog,
    Name: "ci/datadog",
    RotationEnabled: true,
    LastRotatedDate: iso(1),
    LastAccessedDate: iso(0),
    Tags: [{ Key: "team", Value: "ci" }],
  },
  {
    ARN: S.legacy,
    Name: "legacy/db-password",
    RotationEnabled: false,
    LastRotatedDate: iso(200),
    ResourcePolicy: JSON.stringify(FENCE),
  },
  {
    ARN: S.sentry,
    Name: "ci/sentry",
    RotationEnabled: false,
    LastRotatedDate: iso(10),
    ResourcePolicy: SENTRY_POLICY,
  },
  { ARN: S.npm, Name: "ci/npm-token", RotationEnabled: true, LastRotatedDate: iso(3) },
  { ARN: S.pagerduty, Name: "ops/pagerduty", RotationEnabled: false, CreatedDate: iso(400) },
];

const allowRead = (Resource: string | string[]) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource }],
});

function authorizationDetails() {
  const role = (name: string, extra: Record<string, unknown>) => ({
    Path: name === "credbroker-token" ? "/credbroker/" : "/",
    RoleName: name,
    Arn: iam(`role/${name === "credbroker-token" ? "credbroker/" : ""}${name}`),
    CreateDate: iso(30),
    AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] },
    RolePolicyList: [],
    AttachedManagedPolicies: [],
    Tags: [{ Key: "owner", Value: "platform" }],
    RoleLastUsed: { LastUsedDate: iso(1) },
    ...extra,
  });
  return {
    UserDetailList: [
      {
        Path: "/",
        UserName: "admin",
        Arn: iam("user/admin"),
        CreateDate: iso(30),
        // AWS managed, and not in Policies: known by its name to read every secret.
        AttachedManagedPolicies: [
          { PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" },
        ],
        GroupList: [],
        UserPolicyList: [],
        Tags: [{ Key: "owner", Value: "sec" }],
      },
      {
        Path: "/",
        UserName: "alice",
        Arn: iam("user/alice"),
        CreateDate: iso(30),
        AttachedManagedPolicies: [],
        GroupList: ["sentry-readers"],
        UserPolicyList: [],
        Tags: [{ Key: "owner", Value: "sec" }],
      },
    ],
    GroupDetailList: [
      {
        Path: "/",
        GroupName: "sentry-readers",
        Arn: iam("group/sentry-readers"),
        GroupPolicyList: [],
        AttachedManagedPolicies: [{ PolicyName: "ReadSentry", PolicyArn: iam("policy/ReadSentry") }],
      },
    ],
    RoleDetailList: [
      // The broker itself reads everything: never a bypass.
      role("credbroker-token", {
        RolePolicyList: [{ PolicyName: "broker-secrets", PolicyDocument: allowRead("*") }],
      }),
      // URL-encoded, as the IAM API writes documents.
      role("ci-runner", {
        RolePolicyList: [
          {
            PolicyName: "ci-secrets",
            PolicyDocument: encodeURIComponent(JSON.stringify(allowRead(secret("ci/*")))),
          },
        ],
      }),
      // secretsmanager:* on *, but datadog denied: reads sentry (and legacy were it not fenced).
      role("deployer", {
        RolePolicyList: [
          {
            PolicyName: "deploy",
            PolicyDocument: {
              Version: "2012-10-17",
              Statement: [
                { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" },
                { Effect: "Deny", Action: "secretsmanager:GetSecretValue", Resource: secret("ci/datadog-*") },
              ],
            },
          },
        ],
      }),
      // Reads only ops/*: no brokered secret.
      role("oncall", { RolePolicyList: [{ PolicyName: "ops", PolicyDocument: allowRead(secret("ops/*")) }] }),
    ],
    Policies: [
      {
        PolicyName: "ReadSentry",
        Arn: iam("policy/ReadSentry"),
        DefaultVersionId: "v1",
        PolicyVersionList: [
          { VersionId: "v1", IsDefaultVersion: true, Document: allowRead(secret("ci/sentry-??????")) },
        ],
      },
    ],
  };
}

const credentialCsv = () =>
  credentialReportCsv(
    ["admin", "alice"].map((user) => ({ ...credentialReportRows()[5]!, user, arn: iam(`user/${user}`) })),
  );

let dir: string;
let configPath: string;
let sm: SecretsManagerFixture;
let aws: AwsQueryServer;

async function world() {
  const d = await sharedDynamo();
  const tableName = `sinv${process.pid}x${Math.random().toString(36).slice(2, 8)}`;
  await ensureTable(d.client, tableName);
  const grants = new DynamoGrantStore({ client: d.client, tableName });
  const store = new DynamoInventoryStore(d.client, tableName);
  const clock = fixedClock(NOW);
  return {
    grants,
    store,
    clock,
    deps: (live?: LiveIam) => async () => ({
      store,
      clock,
      live: async () => {
        if (!live) throw new Error("no live IAM here");
        return live;
      },
    }),
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "cb-secret-inventory-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "p.cedar"), `@id("p") permit (principal, action, resource);\n`);
  configPath = join(dir, "broker.config.yaml");
  await writeFile(
    configPath,
    stringify({
      version: 1,
      audience: "credbroker",
      issuerUrl: "https://broker.test",
      issuers: [{ name: "test", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
      tasks: TASKS,
      policies: ["policies/*.cedar"],
      inventory: { brokerPrincipals: [BROKER], staleAfterDays: 90 },
    }),
  );
  await writeFile(join(dir, "credential-report.csv"), credentialCsv());
  await writeFile(join(dir, "authorization-details.json"), JSON.stringify(authorizationDetails(), null, 2));
  await writeFile(join(dir, "secrets.json"), JSON.stringify({ SecretList: SECRETS }, null, 2));

  sm = await startSecretsManagerFixture();
  for (const s of SECRETS)
    sm.define(s.ARN, {
      string: "v",
      rotationEnabled: s.RotationEnabled,
      ...(s.LastRotatedDate ? { lastRotatedMs: Date.parse(s.LastRotatedDate) } : {}),
      ...(s.LastAccessedDate ? { lastAccessedMs: Date.parse(s.LastAccessedDate) } : {}),
      ...(s.ResourcePolicy ? { resourcePolicy: s.ResourcePolicy } : {}),
      ...(s.Tags ? { tags: Object.fromEntries(s.Tags.map((t) => [t.Key, t.Value])) } : {}),
    });
  // The stand-in dates a version's creation now: pagerduty's age comes from CreatedDate, so give it one.
  sm.entries.get(S.pagerduty)!.versions.forEach((v) => {
    v.createdMs = NOW - 400 * DAY;
  });
  const actions = iamInventoryActions(
    { [ACCOUNT]: { details: authorizationDetails(), credentialReportCsv: credentialCsv() } },
    { pageSize: 3, pollsUntilComplete: 1, generatedTime: "2026-11-30T09:58:00Z" },
  );
  aws = await startAwsQueryServer({ extraActions: actions.actions });
});
afterAll(async () => {
  await sm?.close();
  await aws?.close();
  await closeSharedDynamo();
});

function liveIam(): LiveIam {
  const sts = new STSClient({ ...aws.clientConfig, maxAttempts: 2 });
  return {
    caller: () => callerIdentity(sts),
    readAccount: (account, keys, progress) =>
      readAccountLive(account, keys, {
        sts,
        progress,
        pollIntervalMs: 1,
        iamClient: (credentials) =>
          new IAMClient({
            endpoint: aws.url,
            region: "us-east-1",
            credentials: credentials ?? aws.clientConfig.credentials,
            maxAttempts: 2,
          }),
        secretsClient: (region) =>
          new SecretsManagerClient({
            endpoint: sm.endpoint,
            region,
            credentials: { accessKeyId: "x", secretAccessKey: "y" },
            maxAttempts: 2,
          }),
      }),
  };
}

async function syncAndReport(source: "files" | "live") {
  const w = await world();
  const io = capture();
  const args =
    source === "files"
      ? [
          "--credential-report",
          join(dir, "credential-report.csv"),
          "--authorization-details",
          join(dir, "authorization-details.json"),
          "--secrets",
          join(dir, "secrets.json"),
        ]
      : [];
  await inventoryCommand(["sync", "--config", configPath, "--json", ...args], io, w.deps(liveIam()));
  const summaries = JSON.parse(io.stdout());
  const report = async (...extra: string[]) => {
    const out = capture();
    await reportCommand(
      ["--config", configPath, ...extra],
      out,
      async () => w.grants,
      () => w.clock.now(),
      async () => w.store,
    );
    return out.stdout();
  };
  return { summaries, report };
}

const EXPECTED_BYPASS = new Map([
  [
    S.datadog,
    [
      `role ${iam("role/ci-runner")} through inline policy ci-secrets`,
      `user ${iam("user/admin")} through managed policy AdministratorAccess`,
    ],
  ],
  [
    S.sentry,
    [
      `role ${iam("role/ci-runner")} through inline policy ci-secrets`,
      `role ${iam("role/deployer")} through inline policy deploy`,
      `user ${iam("user/alice")} through group sentry-readers's managed policy ReadSentry`,
      `user ${iam("user/admin")} through managed policy AdministratorAccess`,
      "arn:aws:iam::444455556666:root through the secret's resource policy",
    ],
  ],
]);

describe.each(["files", "live"] as const)("static secrets in the inventory (%s)", (source) => {
  it("counts static-secrets exactly, with brokered, rotatedAfterUse and exposed", async () => {
    const before = sm.calls.length;
    const { summaries, report } = await syncAndReport(source);
    const calls = sm.calls.slice(before).map((c) => c.target);
    if (source === "live") {
      expect(calls).toContain("secretsmanager.ListSecrets");
      expect(calls.filter((c) => c === "secretsmanager.GetResourcePolicy")).toHaveLength(SECRETS.length);
    } else expect(calls).toEqual([]);
    expect(summaries[0]).toMatchObject({
      accountId: ACCOUNT,
      counts: { "static-secrets": 3, "broker-bypass": 2 },
      secrets: { brokered: 3, rotatedAfterUse: 1, exposed: 2 },
    });
    const r = JSON.parse(await report("--json")) as GovernanceReport;
    const v = r.debt!.verdicts.find((x) => x.criterion === "static-secrets")!;
    expect(v).toMatchObject({
      met: false,
      actual: 3,
      target: 0,
      brokered: 3,
      rotatedAfterUse: 1,
      exposed: 2,
    });
    expect(new Map(v.items.map((i) => [i.arn, i.why]))).toEqual(
      new Map([
        [
          S.legacy,
          "served by task legacy-password, but last rotated 2026-05-14, over 90 days before the snapshot",
        ],
        [S.npm, "not served by any secret task: whoever can read it holds it for good"],
        [S.pagerduty, "not served by any secret task: whoever can read it holds it for good"],
      ]),
    );
    expect(v.notes).toEqual([
      {
        arn: S.legacy,
        why: "served by legacy-password without rotateAfterUse: a copy handed out may live on after its grant",
      },
    ]);
  });

  it("lists every reader of a brokered secret but the broker under broker-bypass, naming principal and policy", async () => {
    const { report } = await syncAndReport(source);
    const r = JSON.parse(await report("--json")) as GovernanceReport;
    const bypass = r.debt!.verdicts.find((x) => x.criterion === "broker-bypass")!;
    expect(bypass.items.map((i) => i.arn).sort()).toEqual([S.datadog, S.sentry].sort());
    for (const [arn, readers] of EXPECTED_BYPASS) {
      const why = bypass.items.find((i) => i.arn === arn)!.why;
      for (const reader of readers) expect(why).toContain(reader);
      expect(why).not.toContain("credbroker-token");
      expect(why).not.toContain("oncall");
    }
    // The ci/* role does not reach past it, the deployer's Deny holds, and the fence keeps legacy broker-only.
    expect(bypass.items.find((i) => i.arn === S.datadog)!.why).not.toContain("deployer");
    expect(bypass.items.find((i) => i.arn === S.legacy)).toBeUndefined();
  });

  it("inventory list --kind secret lists each secret with what it counts in", async () => {
    const w = await world();
    const args =
      source === "files"
        ? [
            "--credential-report",
            join(dir, "credential-report.csv"),
            "--authorization-details",
            join(dir, "authorization-details.json"),
            "--secrets",
            join(dir, "secrets.json"),
          ]
        : [];
    await inventoryCommand(["sync", "--config", configPath, ...args], capture(), w.deps(liveIam()));
    const io = capture();
    await inventoryCommand(["list", "--kind", "secret", "--json", "--config", configPath], io, w.deps());
    const listed = JSON.parse(io.stdout()) as { arn: string; debt: string[]; secret: { tasks: string[] } }[];
    expect(new Map(listed.map((r) => [r.arn, r.debt]))).toEqual(
      new Map([
        [S.datadog, ["bypass"]],
        [S.legacy, ["static-secret"]],
        [S.sentry, ["bypass"]],
        [S.npm, ["static-secret"]],
        [S.pagerduty, ["static-secret"]],
      ]),
    );
    expect(listed.find((r) => r.arn === S.datadog)!.secret.tasks).toEqual(["datadog-key"]);
  });

  it("shows the verdict in text, Markdown and HTML", async () => {
    const { report } = await syncAndReport(source);
    const text = await report();
    expect(text).toMatch(/NOT MET +static-secrets +3 +.*3 brokered, 1 rotated after use, 2 exposed/);
    expect(text).toContain(S.datadog);
    const markdown = await report("--format", "markdown");
    expect(markdown).toContain("static-secrets");
    expect(markdown).toContain("3 brokered, 1 rotated after use, 2 exposed");
    const html = await report("--format", "html");
    expect(html).toContain("static-secrets");
    expect(html).toContain("3 brokered, 1 rotated after use, 2 exposed to principals other than the broker");
    expect(html).toContain("ci/npm-token-QwErTy");
  });
});

describe("the secrets file", () => {
  it("refuses a page of several, one line, nothing stored", async () => {
    const w = await world();
    const page = join(dir, "page.json");
    await writeFile(page, JSON.stringify({ SecretList: SECRETS.slice(0, 1), NextToken: "abc" }));
    const err = await inventoryCommand(
      [
        "sync",
        "--config",
        configPath,
        "--credential-report",
        join(dir, "credential-report.csv"),
        "--authorization-details",
        join(dir, "authorization-details.json"),
        "--secrets",
        page,
      ],
      capture(),
      w.deps(),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toMatch(/one page of several.*nothing was stored/);
    expect(await w.store.listAccounts()).toEqual([]);
  });
});
