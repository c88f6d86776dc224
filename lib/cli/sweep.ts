// `credbroker sweep`: one sweep by hand, with the config's providers, printing its summary.
import { parseArgs } from "node:util";
import { systemClock } from "../core/clock.ts";
import { jsonLogger } from "../core/logger.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import type { GrantStore } from "../core/store.ts";
import { sweepDue } from "../core/sweep.ts";
import type { Grant } from "../core/grant.ts";
import type { CliIo } from "./io.ts";

export async function sweepCommand(
  args: string[],
  io: CliIo,
  deps: () => Promise<{ store: GrantStore; providers: Partial<Record<Grant["provider"], CredentialProvider>> }>,
): Promise<void> {
  const { values } = parseArgs({ args, options: { json: { type: "boolean", default: false }, config: { type: "string" }, table: { type: "string" }, budget: { type: "string" } } });
  const d = await deps();
  const summary = await sweepDue({ ...d, clock: systemClock, log: jsonLogger(io.err) }, { budgetMs: values.budget ? Number(values.budget) * 1000 : 50_000 });
  if (values.json) io.out(`${JSON.stringify(summary)}\n`);
  else
    io.out(
      `sweep: scanned ${summary.scanned}, expired ${summary.expired}, revoked ${summary.revoked}, failed ${summary.failed}, ` +
        `retried ${summary.retried}, pruned ${summary.pruned}, skipped ${summary.skipped}${summary.complete ? "" : " (budget ran out; run again to resume)"}\n`,
    );
}
