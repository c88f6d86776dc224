// inventorySyncMs1000Accounts (CONTRACT §18): the organisation fan-out over 1,000 accounts of the IAM
// fixture (ten roles each), listed by the Organizations fixture, synced into dynalite through each member
// role, `concurrency` (the config's default, 10) at once — the CLI's in-process fan-out.
import { IAMClient } from "@aws-sdk/client-iam";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { DynamoInventoryStore } from "../lib/aws/inventory-store.ts";
import { organizationIam } from "../lib/aws/organization-inventory.ts";
import { ensureTable } from "../lib/aws/table-definition.ts";
import { inventorySchema } from "../lib/config/schema.ts";
import { systemClock } from "../lib/core/clock.ts";
import { syncOrganization } from "../lib/core/inventory/organization.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { startAwsQueryServer } from "../test/fixtures/aws-query-server.ts";
import { iamInventoryActions } from "../test/fixtures/iam-inventory.ts";
import { organizationsActions } from "../test/fixtures/organizations.ts";
import {
  LISTING_ROLE,
  MANAGEMENT,
  MEMBER_ROLE_NAME,
  organizationScenario,
} from "../test/inventory/organization-scenario.ts";

export async function benchOrganization(o: { accounts?: number } = {}) {
  const count = o.accounts ?? 1000;
  const scenario = organizationScenario(count);
  const iam = iamInventoryActions(scenario.iam, { pollsUntilComplete: 0 });
  const org = organizationsActions(scenario.listed, { managementAccount: MANAGEMENT });
  const aws = await startAwsQueryServer({ extraActions: iam.actions, jsonActions: org.actions });
  const dynamo = await startLocalDynamo();
  try {
    await ensureTable(dynamo.client, "organization-bench");
    const store = new DynamoInventoryStore(dynamo.client, "organization-bench");
    const inventory = inventorySchema.parse({
      organization: {
        roleArn: LISTING_ROLE,
        memberRoleName: MEMBER_ROLE_NAME,
        excludeAccounts: scenario.excluded,
      },
    });
    const client = { endpoint: aws.url, region: "us-east-1" } as const;
    const live = organizationIam({
      sts: new STSClient({ ...aws.clientConfig }),
      organizationsClient: (credentials) => new OrganizationsClient({ ...client, credentials }),
      iamClient: (credentials) =>
        new IAMClient({ ...client, credentials: credentials ?? aws.clientConfig.credentials }),
      pollIntervalMs: 1,
    });
    const started = performance.now();
    const { status } = await syncOrganization(live, {
      config: { workloads: [], tasks: [], inventory },
      store,
      runs: store.organizationRuns,
      clock: systemClock,
      source: "live",
    });
    const ms = performance.now() - started;
    if (status.ok !== count) throw new Error(`organization bench: ${status.ok} of ${count} accounts synced`);
    return {
      inventorySyncMs1000Accounts: Math.round(ms),
      inventorySyncAccounts: count,
      inventorySyncConcurrency: inventory.organization!.concurrency,
    };
  } finally {
    await dynamo.close();
    await aws.close();
  }
}
