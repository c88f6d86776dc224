// The process bench/policy-impact.ts measures: one `policy impact --json`, then its time and peak RSS as one
// JSON line. Everything is imported before the clock starts, so the figure is the command's.
import "./env.ts";
import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { storeFromEnv } from "../lib/cli/env.ts";
import { policyImpactCommand } from "../lib/cli/policy-impact.ts";
import "../lib/config/load.ts";
import "../lib/runtime/broker-deps.ts";

// As the CLI itself does on Node 20 (bin/credbroker.js): V8's deoptimizer can abort there under a long
// stream of Cedar calls, and the figure is the command's as users run it.
if (Number(process.versions.node.split(".")[0]) <= 20) setFlagsFromString("--no-turbo-inlining");

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
/**
 * The process's own peak resident set (MiB). Linux folds the parent's peak into a child's getrusage maxRSS
 * across fork and exec, so maxRSS here would report the bench's seeding, not the command: VmHWM in
 * /proc/self/status is this process's own high-water mark. maxRSS (KiB) elsewhere.
 */
function peakRssMiB(): number {
  try {
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (hwm) return Number(hwm[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
process.stdout.write(
  `${JSON.stringify({
    ms,
    peakRssMiB: peakRssMiB(),
    rssBeforeMiB,
    decisions: impact.decisions,
    allowToDeny: impact.allowToDeny,
  })}\n`,
);
process.exit(0);
