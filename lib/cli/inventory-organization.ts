// `credbroker inventory sync` with `inventory.organization` (CONTRACT §16): lists the organisation's
// accounts and syncs them in process, `concurrency` at once. Every account ends `ok` or with its error;
// a failed account keeps its previous snapshot as its newest. Accounts not synced are named on stderr and
// make the exit status 1, after the results are printed.
import type { BrokerConfig } from "../config/schema.ts";
import { InventoryError } from "../core/inventory/errors.ts";
import { syncOrganization } from "../core/inventory/organization.ts";
import { DEBT_CRITERIA } from "../core/inventory/records.ts";
import { CliError } from "./errors.ts";
import type { InventoryDeps } from "./inventory.ts";
import type { CliIo } from "./io.ts";

export async function syncOrganizationCommand(
  d: InventoryDeps,
  o: { config: BrokerConfig; account?: string | undefined; json: boolean },
  io: CliIo,
): Promise<void> {
  const runs = d.store.organizationRuns;
  if (!d.organization || !runs) throw new CliError("inventory sync: this store keeps no organisation runs");
  const iam = await d.organization();
  let outcome: Awaited<ReturnType<typeof syncOrganization>>;
  try {
    outcome = await syncOrganization(iam, {
      config: o.config,
      store: d.store,
      runs,
      clock: d.clock,
      source: "live",
      account: o.account,
      progress: (line) => io.err(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof InventoryError)
      throw new CliError(`inventory sync: ${err.message}; nothing was stored`);
    throw err;
  }
  const { status, results } = outcome;
  if (o.json) io.out(`${JSON.stringify({ ...status, accounts: results }, null, 2)}\n`);
  else {
    io.out(
      `organization snapshot ${status.snapshotTime}: ${status.ok} of ${status.listed} accounts synced, ${status.failed.length} failed, ${status.skipped.length} left out\n`,
    );
    const totals = Object.fromEntries(DEBT_CRITERIA.map((c) => [c, 0])) as Record<string, number>;
    for (const r of results) if (r.status === "ok") for (const c of DEBT_CRITERIA) totals[c]! += r.counts[c];
    for (const c of DEBT_CRITERIA) io.out(`  ${c.padEnd(22)} ${totals[c]}\n`);
    for (const f of status.failed) io.out(`  not synced ${f.accountId}: ${f.error}\n`);
  }
  if (status.notSynced.length > 0)
    throw new CliError(
      `inventory sync: ${status.notSynced.length} of ${status.listed} accounts not synced (${status.notSynced.join(", ")}); their previous snapshots stay the newest`,
    );
}
