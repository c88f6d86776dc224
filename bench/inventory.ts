// inventorySyncMs5k and inventoryPeakRssMiB5k (CONTRACT §12): `inventory sync` from files of an account
// with 5,000 roles and 2,000 users with access keys, into dynalite. The sync runs in a child process of its
// own (bench/inventory-child.ts), so its peak RSS is the sync's, not the bench's or dynalite's.
import { spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTable } from "../lib/aws/table-definition.ts";
import { CREDENTIAL_REPORT_COLUMNS } from "../lib/core/inventory/credential-report.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";

const ACCOUNT = "111122223333";
const DAY = 86_400_000;

/** Writes the account's get-account-authorization-details JSON and credential report CSV. */
async function writeAccount(dir: string, roles: number, users: number, now: number) {
  const at = (days: number) => new Date(now - days * DAY).toISOString().replace(".000Z", "+00:00");
  const arn = (rest: string) => `arn:aws:iam::${ACCOUNT}:${rest}`;
  const doc = (Statement: unknown[]) => ({ Version: "2012-10-17", Statement });
  const json = createWriteStream(join(dir, "authorization-details.json"));
  const write = (s: string) =>
    new Promise<void>((r) => (json.write(s) ? r() : json.once("drain", () => r())));
  const list = async (name: string, n: number, element: (i: number) => unknown, last = false) => {
    await write(`  "${name}": [\n`);
    for (let i = 0; i < n; i++) await write(`    ${JSON.stringify(element(i))}${i < n - 1 ? "," : ""}\n`);
    await write(`  ]${last ? "" : ","}\n`);
  };
  await write("{\n");
  await list("UserDetailList", users, (i) => ({
    Path: "/",
    UserName: `user-${i}`,
    UserId: `AIDA${String(i).padStart(17, "0")}`,
    Arn: arn(`user/user-${i}`),
    CreateDate: at(400),
    UserPolicyList:
      i % 10 === 0
        ? [
            {
              PolicyName: "inline",
              PolicyDocument: doc([{ Effect: "Allow", Action: "s3:*", Resource: "*" }]),
            },
          ]
        : [],
    GroupList: [`group-${i % 20}`],
    AttachedManagedPolicies: [],
    Tags: i % 3 === 0 ? [{ Key: "owner", Value: `team-${i % 7}` }] : [],
  }));
  await list("GroupDetailList", 20, (i) => ({
    Path: "/",
    GroupName: `group-${i}`,
    GroupId: `AGPA${String(i).padStart(17, "0")}`,
    Arn: arn(`group/group-${i}`),
    CreateDate: at(500),
    GroupPolicyList: [],
    AttachedManagedPolicies:
      i === 0
        ? [{ PolicyName: "AdministratorAccess", PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }]
        : [{ PolicyName: `policy-${i}`, PolicyArn: arn(`policy/policy-${i}`) }],
  }));
  await list("RoleDetailList", roles, (i) => ({
    Path: i % 50 === 0 ? "/aws-service-role/x.amazonaws.com/" : "/",
    RoleName: `role-${i}`,
    RoleId: `AROA${String(i).padStart(17, "0")}`,
    Arn: arn(`role/role-${i}`),
    CreateDate: at(300),
    AssumeRolePolicyDocument: doc([
      {
        Effect: "Allow",
        Principal: i % 4 === 0 ? { Service: "lambda.amazonaws.com" } : { AWS: arn("role/credbroker-token") },
        Action: "sts:AssumeRole",
      },
    ]),
    InstanceProfileList: [],
    RolePolicyList: [
      {
        PolicyName: "work",
        PolicyDocument: doc([
          {
            Effect: "Allow",
            Action: ["s3:GetObject", "s3:PutObject"],
            Resource: `arn:aws:s3:::bucket-${i}/*`,
          },
          {
            Effect: "Allow",
            Action: "sqs:SendMessage",
            Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:queue-${i}`,
          },
        ]),
      },
    ],
    AttachedManagedPolicies: [{ PolicyName: `policy-${i % 50}`, PolicyArn: arn(`policy/policy-${i % 50}`) }],
    Tags: [{ Key: i % 2 === 0 ? "owner" : "cost-centre", Value: `team-${i % 9}` }],
    RoleLastUsed: i % 5 === 0 ? {} : { LastUsedDate: at(i % 200), Region: "us-east-1" },
  }));
  await list(
    "Policies",
    50,
    (i) => ({
      PolicyName: `policy-${i}`,
      PolicyId: `ANPA${String(i).padStart(17, "0")}`,
      Arn: arn(`policy/policy-${i}`),
      Path: "/",
      DefaultVersionId: "v2",
      AttachmentCount: 100,
      IsAttachable: true,
      PolicyVersionList: [
        {
          Document: doc([{ Effect: "Allow", Action: "*", Resource: "*" }]),
          VersionId: "v1",
          IsDefaultVersion: false,
          CreateDate: at(600),
        },
        {
          Document: doc([
            { Effect: "Allow", Action: i === 7 ? "iam:PassRole" : "dynamodb:GetItem", Resource: "*" },
          ]),
          VersionId: "v2",
          IsDefaultVersion: true,
          CreateDate: at(100),
        },
      ],
    }),
    true,
  );
  await write("}\n");
  await new Promise<void>((r) => json.end(() => r()));

  const rows = [CREDENTIAL_REPORT_COLUMNS.join(",")];
  const row = (user: string, a: string, k1: [string, string], k2: [string, string]) =>
    CREDENTIAL_REPORT_COLUMNS.map((c) => {
      if (c === "user") return user;
      if (c === "arn") return a;
      if (c === "user_creation_time") return at(400);
      if (c === "access_key_1_active") return k1[0];
      if (c === "access_key_1_last_used_date") return k1[1];
      if (c === "access_key_2_active") return k2[0];
      if (c === "access_key_2_last_used_date") return k2[1];
      if (c.endsWith("_last_rotated")) return at(300);
      if (c.endsWith("_active") || c === "password_enabled") return "false";
      return "N/A";
    }).join(",");
  rows.push(row("<root_account>", arn("root"), ["false", "N/A"], ["false", "N/A"]));
  for (let i = 0; i < users; i++)
    rows.push(
      row(
        `user-${i}`,
        arn(`user/user-${i}`),
        ["true", at(i % 150)],
        i % 2 ? ["true", "N/A"] : ["false", "N/A"],
      ),
    );
  await writeFile(join(dir, "credential-report.csv"), `${rows.join("\n")}\n`);
}

export async function benchInventory(
  o: { roles?: number; users?: number } = {},
): Promise<Record<string, number>> {
  const roles = o.roles ?? 5_000;
  const users = o.users ?? 2_000;
  const dir = await mkdtemp(join(tmpdir(), "credbroker-bench-inventory-"));
  const dynamo = await startLocalDynamo();
  try {
    await writeAccount(dir, roles, users, Date.now());
    await writeFile(join(dir, "p.cedar"), `@id("p") permit (principal, action, resource);\n`);
    const config = join(dir, "broker.config.json");
    await writeFile(
      config,
      JSON.stringify({
        version: 1,
        audience: "credbroker",
        issuerUrl: "https://broker.test",
        issuers: [{ name: "t", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
        workloads: [
          { name: "w", issuer: "t", subject: "s", replaces: [`arn:aws:iam::${ACCOUNT}:user/user-1`] },
        ],
        tasks: [{ name: "t", provider: "aws-sts", roleArn: `arn:aws:iam::${ACCOUNT}:role/role-1` }],
        policies: ["p.cedar"],
        inventory: { brokerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/credbroker-token`] },
      }),
    );
    await ensureTable(dynamo.client, "inventory-bench");
    const child = join(dirname(fileURLToPath(import.meta.url)), "inventory-child.ts");
    const output = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [...process.execArgv, child, config, dir], {
        env: {
          ...process.env,
          CREDBROKER_TABLE: "inventory-bench",
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_REGION: "local",
        },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      p.stdout.on("data", (d) => {
        out += String(d);
      });
      p.on("error", reject);
      p.on("exit", (code) =>
        code === 0 ? resolve(out) : reject(new Error(`inventory child exited with ${code}`)),
      );
    });
    const fileBytes =
      (await stat(join(dir, "authorization-details.json"))).size +
      (await stat(join(dir, "credential-report.csv"))).size;
    const r = JSON.parse(output.trim().split("\n").at(-1)!) as {
      ms: number;
      peakRssMiB: number;
      rssBeforeMiB: number;
    };
    return {
      inventorySyncMs5k: Math.round(r.ms),
      inventoryPeakRssMiB5k: Math.round(r.peakRssMiB),
      inventoryRssBeforeSyncMiB: Math.round(r.rssBeforeMiB),
      inventoryFilesMiB5k: Math.round((fileBytes / 1024 / 1024) * 10) / 10,
    };
  } finally {
    await dynamo.close();
    await rm(dir, { recursive: true, force: true });
  }
}
