// Reads what the report's debt section needs, by key: each synced account's summaries (the trend) and its
// newest snapshot's principals, and the reviews. No scan; the cost follows kept snapshots and principals.
import { type AccountSnapshots, buildDebt, type DebtSection } from "./debt.ts";
import { boundedEach, runStatus } from "./organization.ts";
import type { InventoryStore } from "./store.ts";

/** Each synced account's kept summaries (oldest first) and its newest snapshot's principals. */
const READ_CONCURRENCY = 16;

export async function newestSnapshots(store: InventoryStore): Promise<AccountSnapshots[]> {
  const accounts = await store.listAccounts();
  // A few accounts at a time: an organisation has hundreds, and a thousand reads at once only queue.
  const out: AccountSnapshots[] = new Array(accounts.length);
  await boundedEach([...accounts.keys()], READ_CONCURRENCY, async (i) => {
    const summaries = await store.listSummaries(accounts[i]!);
    const newest = summaries.at(-1);
    out[i] = { summaries, records: newest ? await store.readRecords(newest) : [] };
  });
  return out;
}

export async function debtFromStore(store: InventoryStore, nowMs: number): Promise<DebtSection> {
  const [snapshots, reviews, run] = await Promise.all([
    newestSnapshots(store),
    store.listReviews(),
    store.organizationRuns?.latestRun(),
  ]);
  const debt = buildDebt(snapshots, reviews, nowMs);
  return run ? { ...debt, organization: runStatus(run.run, run.results, nowMs) } : debt;
}
