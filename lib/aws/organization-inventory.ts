// Organizations and member-account reads for the organisation inventory (CONTRACT §16): ListAccounts paged
// with NextToken through the listing role, and each member's IAM through its member role (iam-inventory.ts).
// The account's `State` is read first: Organizations retired `Status` in September 2026.
import {
  ListAccountsCommand,
  type ListAccountsCommandOutput,
  OrganizationsClient,
} from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { InventoryError } from "../core/inventory/errors.ts";
import type { OrganizationAccount, OrganizationIam } from "../core/inventory/organization.ts";
import { assumedRoleCredentials } from "./assumed-role-credentials.ts";
import { callerIdentity, type IamInventoryOptions, readAccountLive } from "./iam-inventory.ts";

const MAX_PAGES = 10_000;

export async function listOrganizationAccounts(client: OrganizationsClient): Promise<OrganizationAccount[]> {
  const out: OrganizationAccount[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    let page: ListAccountsCommandOutput;
    try {
      page = await client.send(new ListAccountsCommand(token ? { NextToken: token } : {}));
    } catch (err) {
      const e = err as Error;
      throw new InventoryError(`organizations:ListAccounts failed: ${e.name}: ${e.message}`);
    }
    for (const a of page.Accounts ?? [])
      if (a.Id)
        out.push({
          accountId: a.Id,
          ...(a.Name ? { name: a.Name } : {}),
          status: a.State ?? a.Status ?? "UNKNOWN",
        });
    token = page.NextToken;
    if (token && ++pages >= MAX_PAGES)
      throw new InventoryError(`organizations:ListAccounts still paging after ${MAX_PAGES} pages`);
  } while (token);
  return out;
}

export interface OrganizationIamOptions extends Omit<IamInventoryOptions, "progress"> {
  /** Builds the Organizations client with the listing role's credentials. */
  organizationsClient?: (credentials: ReturnType<typeof assumedRoleCredentials>) => OrganizationsClient;
}

/** The live OrganizationIam: the broker's STS client enters the listing role and every member role. */
export function organizationIam(o: OrganizationIamOptions = {}): OrganizationIam {
  const sts = o.sts ?? new STSClient({});
  return {
    caller: () => callerIdentity(sts),
    async listAccounts(roleArn) {
      const credentials = assumedRoleCredentials(sts, roleArn, "credbroker-inventory");
      try {
        await credentials();
      } catch (err) {
        const e = err as Error;
        throw new InventoryError(`sts:AssumeRole into ${roleArn} failed: ${e.name}: ${e.message}`);
      }
      // Organizations has one endpoint, in us-east-1 (aws-cn and GovCloud have their own regions).
      const client = o.organizationsClient
        ? o.organizationsClient(credentials)
        : new OrganizationsClient({ credentials, region: "us-east-1" });
      return listOrganizationAccounts(client);
    },
    readAccount: (account, ownerTagKeys, progress) =>
      readAccountLive(account, ownerTagKeys, { ...o, sts, progress }),
  };
}
