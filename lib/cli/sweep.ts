// `credbroker sweep`: one sweep by hand, with the config's providers (aws-sts revocations reach IAM),
// printing its summary. `--budget SECONDS` bounds it; run it again to resume. It refuses a config other
// than the one the broker last applied unless `--force` is given (admin-deps.ts says why).
import { parseArgs } from "node:util";
import { jsonLogger, type Logger } from "../core/logger.ts";
import { type SweepDeps, sweepDue } from "../core/sweep.ts";
import { adminDecidingDeps, refuseUnappliedConfig } from "./admin-deps.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export type SweepDepsFactory = (
  flags: { config?: string | undefined; table?: string | undefined },
  log: Logger,
) => Promise<SweepDeps>;

export async function sweepCommand(args: string[], io: CliIo, deps?: SweepDepsFactory): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      config: { type: "string" },
      table: { type: "string" },
      budget: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const budget = values.budget === undefined ? 50 : Number(values.budget);
  if (!Number.isFinite(budget) || budget <= 0)
    throw new CliError("--budget must be a positive number of seconds");
  const log = jsonLogger(io.err);
  const flags = { config: values.config, table: values.table };
  const d = deps ? await deps(flags, log) : await adminDecidingDeps(flags, io.env, log);
  await refuseUnappliedConfig(d, values.force);
  const summary = await sweepDue(d, { budgetMs: budget * 1000 });
  if (values.json) io.out(`${JSON.stringify(summary)}\n`);
  else
    io.out(
      `sweep: scanned ${summary.scanned}, expired ${summary.expired}, revoked ${summary.revoked}, failed ${summary.failed}, ` +
        `retried ${summary.retried}, pruned ${summary.pruned}, re-evaluated ${summary.reevaluated}, skipped ${summary.skipped}, ` +
        `errors ${summary.errors}${summary.leftovers ? `, leftovers dropped ${summary.leftovers}` : ""}${summary.complete ? "" : " (budget ran out; run again to resume)"}\n`,
    );
  if (summary.errors > 0) process.exitCode = 1;
}
