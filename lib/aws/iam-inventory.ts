// Reads one account's IAM live for `inventory sync`: GenerateCredentialReport polled until COMPLETE (a
// bounded number of times), GetCredentialReport, then GetAccountAuthorizationDetails paged with Marker until
// IsTruncated is false, then (when asked) the account's Secrets Manager secrets and their resource policies.
// Each page goes into the builder as it arrives, so only one page is held. Another
// account is read through its inventory role (AssumeRole); SDK failures become one-line InventoryErrors.
import {
  GenerateCredentialReportCommand,
  GetAccountAuthorizationDetailsCommand,
  GetCredentialReportCommand,
  IAMClient,
} from "@aws-sdk/client-iam";
import {
  GetResourcePolicyCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { parse } from "csv-parse/sync";
import { AccountBuilder } from "../core/inventory/authorization-details.ts";
import { checkCredentialReportHeader, credentialRow } from "../core/inventory/credential-report.ts";
import { InventoryError } from "../core/inventory/errors.ts";
import type { AccountFacts } from "../core/inventory/model.ts";
import { assumedRoleCredentials } from "./assumed-role-credentials.ts";

const MAX_PAGES = 10_000;

export interface IamInventoryOptions {
  /** The broker's own STS client (for GetCallerIdentity and AssumeRole). */
  sts?: STSClient;
  /** Builds an IAM client, with credentials of an assumed role for another account. */
  iamClient?: (credentials?: ReturnType<typeof assumedRoleCredentials>) => IAMClient;
  /** Polls of GenerateCredentialReport before giving up; default 30. */
  maxPolls?: number;
  /** Pause between polls; default 2 s. */
  pollIntervalMs?: number;
  /** Builds a Secrets Manager client for a region (CONTRACT §15), with an assumed role's credentials. */
  secretsClient?: (
    region: string,
    credentials?: ReturnType<typeof assumedRoleCredentials>,
  ) => SecretsManagerClient;
  progress?: (line: string) => void;
}

/** One line naming the call that failed, never a stack or a raw SDK dump. */
function failed(what: string, err: unknown): InventoryError {
  if (err instanceof InventoryError) return err;
  const e = err as Error & { $metadata?: { httpStatusCode?: number } };
  const throttled = /Throttl/i.test(e.name) || e.$metadata?.httpStatusCode === 429;
  return new InventoryError(
    `${what} failed: ${e.name}${throttled ? " (IAM is throttling the broker; try again later)" : ""}: ${e.message}`,
  );
}

async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw failed(what, err);
  }
}

/** The ARN that names the broker's own credentials: an assumed-role session read as its role. */
export function callerRoleArn(arn: string): string {
  const m = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(arn);
  return m ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : arn;
}

export async function callerIdentity(sts: STSClient): Promise<{ account: string; arn: string }> {
  const out = await call("sts:GetCallerIdentity", () => sts.send(new GetCallerIdentityCommand({})));
  if (!out.Account || !out.Arn) throw new InventoryError("sts:GetCallerIdentity returned no account");
  return { account: out.Account, arn: callerRoleArn(out.Arn) };
}

export async function readAccountLive(
  account: { accountId: string; roleArn?: string | undefined; secretRegions?: readonly string[] | undefined },
  ownerTagKeys: readonly string[],
  o: IamInventoryOptions = {},
): Promise<AccountFacts> {
  const sts = o.sts ?? new STSClient({});
  const progress = o.progress ?? (() => {});
  let credentials: ReturnType<typeof assumedRoleCredentials> | undefined;
  if (account.roleArn) {
    credentials = assumedRoleCredentials(sts, account.roleArn, "credbroker-inventory");
    // Assumed up front, so an account the broker cannot enter fails before anything is read.
    await call(`sts:AssumeRole into ${account.roleArn}`, () => credentials!());
  }
  const iam = o.iamClient ? o.iamClient(credentials) : new IAMClient(credentials ? { credentials } : {});
  const where = `account ${account.accountId}`;
  const builder = new AccountBuilder(ownerTagKeys);

  const maxPolls = o.maxPolls ?? 30;
  let state: string | undefined;
  for (let poll = 1; poll <= maxPolls; poll++) {
    const out = await call(`${where}: iam:GenerateCredentialReport`, () =>
      iam.send(new GenerateCredentialReportCommand({})),
    );
    state = out.State;
    if (state === "COMPLETE") break;
    progress(`${where}: credential report ${state ?? "pending"} (poll ${poll} of ${maxPolls})`);
    if (poll < maxPolls) await new Promise((r) => setTimeout(r, o.pollIntervalMs ?? 2000));
  }
  if (state !== "COMPLETE")
    throw new InventoryError(
      `${where}: the credential report was not COMPLETE after ${maxPolls} polls (last state ${state ?? "none"})`,
    );
  const report = await call(`${where}: iam:GetCredentialReport`, () =>
    iam.send(new GetCredentialReportCommand({})),
  );
  if (!report.Content) throw new InventoryError(`${where}: iam:GetCredentialReport returned no content`);
  if (report.GeneratedTime) builder.generatedTime = report.GeneratedTime.toISOString();
  // A credential report is a few hundred bytes a user: parsed in one go, like IAM hands it over.
  let records: Record<string, string>[];
  try {
    records = parse(Buffer.from(report.Content), {
      columns: (header: string[]) => {
        checkCredentialReportHeader(header);
        return header;
      },
      trim: true,
      skip_empty_lines: true,
    });
  } catch (err) {
    if (err instanceof InventoryError) throw err;
    throw new InventoryError(`${where}: credential report: ${(err as Error).message}`);
  }
  records.forEach((r, i) => {
    builder.addCredentialRow(credentialRow(r, i + 2));
  });
  progress(`${where}: credential report with ${records.length} rows`);

  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await call(`${where}: iam:GetAccountAuthorizationDetails`, () =>
      iam.send(new GetAccountAuthorizationDetailsCommand(marker ? { Marker: marker } : {})),
    );
    for (const u of page.UserDetailList ?? []) builder.add("UserDetailList", u);
    for (const g of page.GroupDetailList ?? []) builder.add("GroupDetailList", g);
    for (const r of page.RoleDetailList ?? []) builder.add("RoleDetailList", r);
    for (const p of page.Policies ?? []) builder.add("Policies", p);
    pages++;
    marker = page.IsTruncated ? page.Marker : undefined;
    if (page.IsTruncated && !marker)
      throw new InventoryError(`${where}: GetAccountAuthorizationDetails is truncated but gave no Marker`);
    // IAM's own quotas keep an account far below this; a Marker that never ends is an endpoint's bug.
    if (marker && pages >= MAX_PAGES)
      throw new InventoryError(
        `${where}: GetAccountAuthorizationDetails still truncated after ${MAX_PAGES} pages`,
      );
  } while (marker);
  progress(`${where}: authorization details in ${pages} pages`);
  await readSecretsLive(account, builder, credentials, o);
  return builder.build(account.accountId);
}

/**
 * Every secret of the account in each region asked for (those of its secret tasks, and
 * inventory.secretRegions): ListSecrets paged with NextToken, then each secret's GetResourcePolicy, so the
 * report can say who besides the broker can read it (CONTRACT §15). Metadata only, never a value.
 */
async function readSecretsLive(
  account: { accountId: string; secretRegions?: readonly string[] | undefined },
  builder: AccountBuilder,
  credentials: ReturnType<typeof assumedRoleCredentials> | undefined,
  o: IamInventoryOptions,
): Promise<void> {
  const where = `account ${account.accountId}`;
  // Opt-in: an inventory with no secret task in the account and no secretRegions reads no secrets.
  const regions = [...new Set(account.secretRegions ?? [])];
  if (regions.length === 0) return;
  builder.secretsRead();
  for (const region of regions) {
    const sm = o.secretsClient
      ? o.secretsClient(region, credentials)
      : new SecretsManagerClient({ region, ...(credentials ? { credentials } : {}) });
    let token: string | undefined;
    let pages = 0;
    let count = 0;
    do {
      const page = await call(`${where}: secretsmanager:ListSecrets in ${region}`, () =>
        sm.send(new ListSecretsCommand({ MaxResults: 100, ...(token ? { NextToken: token } : {}) })),
      );
      for (const secret of page.SecretList ?? []) {
        const policy = await call(`${where}: secretsmanager:GetResourcePolicy of ${secret.Name}`, () =>
          sm.send(new GetResourcePolicyCommand({ SecretId: secret.ARN })),
        );
        builder.addSecret({
          ...secret,
          ...(policy.ResourcePolicy ? { ResourcePolicy: policy.ResourcePolicy } : {}),
        });
        count++;
      }
      token = page.NextToken;
      if (token && ++pages >= MAX_PAGES)
        throw new InventoryError(`${where}: ListSecrets still has a NextToken after ${MAX_PAGES} pages`);
    } while (token);
    o.progress?.(`${where}: ${count} secrets in ${region}`);
  }
}
