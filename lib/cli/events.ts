// `credbroker events put FILE`: feeds one EventBridge event (a GuardDuty or Security Hub finding, as the
// deployed rule delivers it) to the broker by hand or in dev (CONTRACT §13). A finding about a broker session
// revokes its grant and flags its workload; others are audited as ignored. Prints what it did as JSON.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { handleFindings } from "../core/events/findings.ts";
import { MalformedEvent } from "../core/events/webhooks.ts";
import { jsonLogger } from "../core/logger.ts";
import { adminDecidingDeps, refuseUnappliedConfig } from "./admin-deps.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import type { SignalsDepsFactory } from "./signals.ts";

const USAGE =
  "usage: credbroker events put FILE [--config FILE] [--table T] [--force]   (FILE: one EventBridge event as JSON, - for stdin)";

export async function eventsCommand(args: string[], io: CliIo, deps?: SignalsDepsFactory): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      table: { type: "string" },
      force: { type: "boolean", default: false },
    },
  });
  const file = positionals[0];
  if (sub !== "put" || !file || positionals.length > 1) throw new CliError(USAGE);
  let event: unknown;
  try {
    const text = file === "-" ? await readStdin() : await readFile(file, "utf8");
    event = JSON.parse(text);
  } catch (err) {
    throw new CliError(`cannot read ${file} as JSON: ${(err as Error).message.split("\n")[0]}`);
  }
  const log = jsonLogger(io.err);
  const flags = { config: values.config, table: values.table };
  const d = deps ? await deps(flags, log) : await adminDecidingDeps(flags, io.env, log);
  // A flagged workload's grants are re-decided under this config: as for `signals`, only the applied one.
  await refuseUnappliedConfig(d, values.force);
  if (!d.config.events?.findings)
    throw new CliError("the config has no events.findings: nothing would act on a finding");
  try {
    io.out(`${JSON.stringify({ findings: await handleFindings(d, event) })}\n`);
  } catch (err) {
    if (err instanceof MalformedEvent) throw new CliError(`not a finding event: ${err.why}`);
    throw err;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
