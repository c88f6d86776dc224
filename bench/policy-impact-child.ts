// The process bench/policy-impact.ts measures: one `policy impact --json`, then its time and peak RSS as one
// JSON line. Everything is imported before the clock starts, so the figure is the command's.
import "./env.ts";
import { storeFromEnv } from "../lib/cli/env.ts";
import { policyImpactCommand } from "../lib/cli/policy-impact.ts";
import "../lib/config/load.ts";
import "../lib/runtime/broker-deps.ts";

const [proposed, now] = process.argv.slice(2) as [string, string];
const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
const started = performance.now();
const { impact } = await policyImpactCommand(
  ["--config", proposed, "--json"],
  { out: () => {}, err: (t) => process.stderr.write(t), env: process.env },
  async (table) => storeFromEnv(table, process.env),
  () => Number(now),
);
const ms = performance.now() - started;
// maxRSS is in KiB: the process's peak resident set, whatever the GC did in between.
process.stdout.write(
  `${JSON.stringify({
    ms,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    rssBeforeMiB,
    decisions: impact.decisions,
    allowToDeny: impact.allowToDeny,
  })}\n`,
);
process.exit(0);
