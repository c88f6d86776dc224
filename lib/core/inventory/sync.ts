// One `inventory sync`: every account's facts are read before anything is stored (an account that cannot
// be read stores nothing for any), then each account's snapshot is analysed and written, and old ones are
// pruned. Reading is the caller's (live IAM or files); this step only needs the facts.
import type { BrokerConfig, InventoryConfig } from "../../config/schema.ts";
import type { Clock } from "../clock.ts";
import { analyseAccount } from "./analyse.ts";
import { InventoryError } from "./errors.ts";
import type { AccountFacts } from "./model.ts";
import { countDebt, countKeys, countSecrets } from "./records.ts";
import type { InventoryStore, Replacer, SnapshotSummary } from "./store.ts";

export const DEFAULT_INVENTORY: InventoryConfig = {
  accounts: [],
  ownerTagKeys: ["owner"],
  staleAfterDays: 90,
  reviewValidDays: 90,
  snapshotsKept: 90,
  brokerPrincipals: [],
};

const label = (r: Replacer) => `${r.kind} ${r.name}`;

/** Each replaced ARN with the workloads and tasks whose `replaces` name it. */
export function replacesOf(config: Pick<BrokerConfig, "workloads" | "tasks">): Map<string, Replacer[]> {
  const out = new Map<string, Replacer[]>();
  const add = (arn: string, r: Replacer) => out.set(arn, [...(out.get(arn) ?? []), r]);
  for (const w of config.workloads)
    for (const arn of w.replaces ?? []) add(arn, { kind: "workload", name: w.name });
  // Every task kind may name what it replaces; one whose schema has no `replaces` names nothing.
  for (const t of config.tasks)
    for (const arn of ("replaces" in t ? t.replaces : undefined) ?? [])
      add(arn, { kind: "task", name: t.name });
  return out;
}

export interface SyncOptions {
  config: Pick<BrokerConfig, "workloads" | "tasks" | "inventory">;
  store: InventoryStore;
  clock: Clock;
  source: SnapshotSummary["source"];
  /** The broker's principals besides inventory.brokerPrincipals (its caller identity, by default). */
  brokerPrincipals?: readonly string[];
  /** Whether those include the caller identity STS gave (see SnapshotSummary.brokerPrincipalsFrom). */
  brokerPrincipalsFrom?: SnapshotSummary["brokerPrincipalsFrom"];
  progress?: (line: string) => void;
  /** The sync's time, shared by every account of an organisation run (CONTRACT §16); default now. */
  snapshotMs?: number;
}

export async function storeSnapshots(
  facts: readonly AccountFacts[],
  o: SyncOptions,
): Promise<SnapshotSummary[]> {
  const inventory = o.config.inventory ?? DEFAULT_INVENTORY;
  const snapshotMs = o.snapshotMs ?? o.clock.now();
  const replaces = replacesOf(o.config);
  const replacers = new Map<string, Replacer>();
  for (const list of replaces.values()) for (const r of list) replacers.set(label(r), r);
  const firstGrantMs = new Map<string, number>();
  for (const [key, r] of replacers) {
    const t = await o.store.firstGrantMs(r);
    if (t !== undefined) firstGrantMs.set(key, t);
  }
  const reviews = await o.store.listReviews();
  const brokerPrincipals = [...new Set([...inventory.brokerPrincipals, ...(o.brokerPrincipals ?? [])])];
  const taskRoles = o.config.tasks.flatMap((t) =>
    t.provider === "aws-sts" ? [{ task: t.name, roleArn: t.roleArn }] : [],
  );
  const secretTasks = o.config.tasks.flatMap((t) =>
    t.provider === "secret"
      ? [{ task: t.name, secretArn: t.secretArn, rotateAfterUse: t.rotateAfterUse }]
      : [],
  );

  const summaries: SnapshotSummary[] = [];
  for (const account of facts) {
    const records = analyseAccount(account, {
      snapshotMs,
      staleAfterDays: inventory.staleAfterDays,
      replaces: new Map([...replaces].map(([arn, rs]) => [arn, rs.map(label)])),
      firstGrantMs,
      taskRoles,
      brokerPrincipals,
      secretTasks,
    });
    const summary: SnapshotSummary = {
      accountId: account.accountId,
      snapshotTime: new Date(snapshotMs).toISOString(),
      generatedTime: account.generatedTime ?? null,
      source: o.source,
      principals: records.length,
      counts: countDebt(records, reviews, snapshotMs),
      keys: countKeys(records),
      ...(account.secrets ? { secrets: countSecrets(records) } : {}),
      brokerPrincipals,
      ...(o.brokerPrincipalsFrom ? { brokerPrincipalsFrom: o.brokerPrincipalsFrom } : {}),
    };
    o.progress?.(`account ${account.accountId}: storing ${records.length} principals`);
    await o.store.putSnapshot(summary, records);
    await o.store.pruneSnapshots(account.accountId, inventory.snapshotsKept);
    summaries.push(summary);
  }
  return summaries;
}

/** Live IAM, as lib/aws/iam-inventory.ts reads it. */
export interface LiveIam {
  /** The account and ARN of the broker's own credentials (an assumed-role session read as its role). */
  caller(): Promise<{ account: string; arn: string }>;
  readAccount(
    account: { accountId: string; roleArn?: string | undefined; secretRegions?: readonly string[] },
    ownerTagKeys: readonly string[],
    progress: (line: string) => void,
  ): Promise<AccountFacts>;
}

/**
 * A live sync of the configured accounts (the caller's own when none are), or of one of them. Every account
 * is read before anything is stored: one that cannot be read stores nothing for any.
 */
export async function syncLive(
  live: LiveIam,
  o: SyncOptions & { account?: string | undefined },
): Promise<SnapshotSummary[]> {
  const inventory = o.config.inventory ?? DEFAULT_INVENTORY;
  const progress = o.progress ?? (() => {});
  const caller = await live.caller();
  let accounts = inventory.accounts.length > 0 ? inventory.accounts : [{ accountId: caller.account }];
  if (o.account !== undefined) {
    accounts = accounts.filter((a) => a.accountId === o.account);
    if (accounts.length === 0) throw new InventoryError(`account ${o.account} is not in inventory.accounts`);
  }
  const facts: AccountFacts[] = [];
  for (const account of accounts) {
    progress(`account ${account.accountId}: reading IAM${account.roleArn ? ` as ${account.roleArn}` : ""}`);
    // Secrets are regional: read where the config's secret tasks of this account live (the caller's region
    // when none does), plus any regions the inventory names.
    const secretRegions = [
      ...new Set([
        ...o.config.tasks.flatMap((t) =>
          t.provider === "secret" && t.secretArn.split(":")[4] === account.accountId
            ? [t.secretArn.split(":")[3]!]
            : [],
        ),
        ...(inventory.secretRegions ?? []),
      ]),
    ];
    facts.push(await live.readAccount({ ...account, secretRegions }, inventory.ownerTagKeys, progress));
  }
  return storeSnapshots(facts, {
    ...o,
    source: "live",
    brokerPrincipals: [...(o.brokerPrincipals ?? []), caller.arn],
    brokerPrincipalsFrom: "caller-identity",
  });
}
