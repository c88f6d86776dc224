// Reads what the report's debt section needs, by key: each synced account's summaries (the trend) and its
// newest snapshot's principals, and the reviews. No scan; the cost follows kept snapshots and principals.
import { type AccountSnapshots, buildDebt, type DebtSection } from "./debt.ts";
import type { InventoryStore } from "./store.ts";

/** Each synced account's kept summaries (oldest first) and its newest snapshot's principals. */
export async function newestSnapshots(store: InventoryStore): Promise<AccountSnapshots[]> {
  const accounts = await store.listAccounts();
  return Promise.all(
    accounts.map(async (accountId) => {
      const summaries = await store.listSummaries(accountId);
      const newest = summaries.at(-1);
      return { summaries, records: newest ? await store.readRecords(newest) : [] };
    }),
  );
}

export async function debtFromStore(store: InventoryStore, nowMs: number): Promise<DebtSection> {
  const [snapshots, reviews] = await Promise.all([newestSnapshots(store), store.listReviews()]);
  return buildDebt(snapshots, reviews, nowMs);
}
