// `credbroker signals set WORKLOAD NAME=VALUE...` and `signals clear WORKLOAD NAME...`: stores the change,
// re-decides the workload's active grants at once, revokes those now denied, and prints what it revoked.
// It refuses a config other than the one the broker last applied unless `--force` is given (admin-deps.ts).
import { parseArgs } from "node:util";
import { jsonLogger, type Logger } from "../core/logger.ts";
import { PROVIDER_TRAITS } from "../core/providers/traits.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import { changeSignals, checkSignalChange, type SignalChange } from "../core/signals.ts";
import { adminDecidingDeps, refuseUnappliedConfig } from "./admin-deps.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

const USAGE =
  "usage: credbroker signals set WORKLOAD NAME=VALUE... [--config FILE] [--force] [--json] | credbroker signals clear WORKLOAD NAME... [--config FILE] [--force] [--json]";

export type SignalsDepsFactory = (
  flags: { config?: string | undefined; table?: string | undefined },
  log: Logger,
) => Promise<ReevaluateDeps>;

export async function signalsCommand(args: string[], io: CliIo, deps?: SignalsDepsFactory): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      table: { type: "string" },
      json: { type: "boolean", default: false },
      force: { type: "boolean", default: false },
    },
  });
  const [workload, ...items] = positionals;
  if ((sub !== "set" && sub !== "clear") || !workload || items.length === 0) throw new CliError(USAGE);
  const actor = io.env["USER"] ?? "admin";
  let change: SignalChange;
  if (sub === "set") {
    const set: Record<string, string> = {};
    for (const item of items) {
      const eq = item.indexOf("=");
      if (eq <= 0) throw new CliError(`signals set takes NAME=VALUE, got ${JSON.stringify(item)}`);
      set[item.slice(0, eq)] = item.slice(eq + 1);
    }
    change = { workload, set, actor };
  } else change = { workload, clear: items, actor };
  try {
    checkSignalChange(change);
  } catch (err) {
    throw new CliError((err as Error).message);
  }

  const log = jsonLogger(io.err);
  const flags = { config: values.config, table: values.table };
  const d = deps ? await deps(flags, log) : await adminDecidingDeps(flags, io.env, log);
  // A typo would store a signal no grant ever reads; refuse names the inventory does not know.
  if (!d.config.workloads.some((w) => w.name === workload))
    throw new CliError(`no workload named ${workload} in the config`);
  // Before the first write: a refused change leaves nothing half done.
  await refuseUnappliedConfig(d, values.force);
  const result = await changeSignals(d, change);

  if (values.json) {
    io.out(
      `${JSON.stringify({
        workload,
        signals: result.signals,
        evaluated: result.evaluated,
        settled: result.settled,
        revoked: result.revoked.map((g) => ({
          grantId: g.grantId,
          task: g.task,
          reason: g.reason,
          ...(g.revocationPending ? { revocationPending: true } : {}),
        })),
      })}\n`,
    );
    return;
  }
  const shown = Object.entries(result.signals).map(([k, v]) => `${k}=${v}`);
  io.out(`${workload}: signals ${shown.length > 0 ? shown.join(" ") : "(none)"}\n`);
  io.out(
    `re-evaluated ${result.evaluated} active grant${result.evaluated === 1 ? "" : "s"}, revoked ${result.revoked.length}\n`,
  );
  for (const g of result.revoked)
    io.out(
      `  revoked ${g.grantId} (${g.task}): ${g.reason}${g.revocationPending ? ` — ${PROVIDER_TRAITS[g.provider].pendingRevocation}` : ""}\n`,
    );
  // "revoked 0" alone would read as "nothing to do" while a grant decided before the change is still coming.
  if (!result.settled)
    io.out(
      `some grants of ${workload} were still being issued and could not be re-decided yet; the next sweep re-decides them\n`,
    );
}
