// A table (dynalite) holding both the grant store and the inventory, a config on disk for the scenario,
// and the scenario's two files, for the inventory's CLI tests.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { DynamoInventoryStore } from "../../lib/aws/inventory-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import type { InventoryDeps, LiveIam } from "../../lib/cli/inventory.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import { grant } from "../governance/seed.ts";
import { NOW, sharedDynamo } from "../support/broker.ts";
import {
  authorizationDetails,
  BROKER_ROLE,
  credentialReportCsv,
  DAY,
  SCENARIO_TASKS,
  SCENARIO_WORKLOADS,
} from "./scenario.ts";

let tables = 0;

export interface InventoryWorld {
  dir: string;
  configPath: string;
  grants: DynamoGrantStore;
  inventory: DynamoInventoryStore;
  clock: ReturnType<typeof fixedClock>;
  files: { credentialReport: string; authorizationDetails: string };
  deps(live?: LiveIam): () => Promise<InventoryDeps>;
}

export async function inventoryWorld(
  inventory: Record<string, unknown> = { ownerTagKeys: ["owner", "team"], brokerPrincipals: [BROKER_ROLE] },
): Promise<InventoryWorld> {
  const d = await sharedDynamo();
  const tableName = `inv${process.pid}x${++tables}`;
  await ensureTable(d.client, tableName);
  const grants = new DynamoGrantStore({ client: d.client, tableName });
  const store = new DynamoInventoryStore(d.client, tableName);
  const dir = await mkdtemp(join(tmpdir(), "cb-inventory-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "p.cedar"), `@id("p") permit (principal, action, resource);\n`);
  const configPath = join(dir, "broker.config.yaml");
  await writeFile(
    configPath,
    stringify({
      version: 1,
      audience: "credbroker",
      issuerUrl: "https://broker.test",
      issuers: [{ name: "test", issuer: "https://issuer.test", jwksUri: "https://issuer.test/jwks" }],
      workloads: SCENARIO_WORKLOADS,
      tasks: SCENARIO_TASKS,
      policies: ["policies/*.cedar"],
      inventory,
    }),
  );
  const files = {
    credentialReport: join(dir, "credential-report.csv"),
    authorizationDetails: join(dir, "authorization-details.json"),
  };
  await writeFile(files.credentialReport, credentialReportCsv());
  await writeFile(files.authorizationDetails, JSON.stringify(authorizationDetails(), null, 2));
  // web-deploy (which replaces ci-deployer) was first granted something 5 days ago.
  const first = grant("web-deploy", "deploy-web", NOW - 5 * DAY);
  await grants.createGrant(first, NOW);
  await grants.transition(first.grantId, "issuing", "active");
  const clock = fixedClock(NOW);
  return {
    dir,
    configPath,
    grants,
    inventory: store,
    clock,
    files,
    deps: (live) => async () => ({
      store,
      clock,
      live: async () => {
        if (!live) throw new Error("no live IAM in this test");
        return live;
      },
      // A file sync asks STS who the broker is when credentials are at hand: here, when the test has IAM.
      callerIfAtHand: async () => live?.caller(),
    }),
  };
}
