// The process bench/inventory.ts measures: one `inventory sync` from files, then its time and peak RSS as
// one JSON line. Everything is imported before the clock starts, so the figure is the sync's.
import "./env.ts";
import { join } from "node:path";
import { inventoryCommand } from "../lib/cli/inventory.ts";
import "../lib/cli/inventory-files.ts";
import "../lib/aws/inventory-store.ts";
import "../lib/config/load.ts";

const [config, dir] = process.argv.slice(2) as [string, string];
const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
const started = performance.now();
await inventoryCommand(
  [
    "sync",
    "--config",
    config,
    "--credential-report",
    join(dir, "credential-report.csv"),
    "--authorization-details",
    join(dir, "authorization-details.json"),
  ],
  { out: () => {}, err: () => {}, env: process.env },
);
const ms = performance.now() - started;
// maxRSS is in KiB: the process's peak resident set, whatever the GC did in between.
process.stdout.write(
  `${JSON.stringify({ ms, peakRssMiB: process.resourceUsage().maxRSS / 1024, rssBeforeMiB })}\n`,
);
process.exit(0);
