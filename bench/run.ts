// `npm run bench [-- --out FILE] [--quick] [--only NAMES] [--node PATH] [--cold-start-node-args "FLAGS"]`
// Measures every figure of BENCHMARKS.md on this machine in one run, prints a table and writes one JSON
// document (bench/results.json unless --out). Figures, not a pass/fail test: goals are shown beside them.
// Each figure runs in its own Node process (a fresh heap, and a crash costs one figure, tried up to 4 times).
import "./env.ts";
import { execFileSync, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchColdStart } from "./cold-start.ts";
import { benchDecision } from "./decision.ts";
import { benchEvents } from "./events.ts";
import { startBenchBroker } from "./harness.ts";
import { benchInventory } from "./inventory.ts";
import { benchIssuePath } from "./issue-path.ts";
import { machineInfo } from "./machine.ts";
import { benchOrganization } from "./organization.ts";
import { benchPolicyImpact } from "./policy-impact.ts";
import { benchReport } from "./report.ts";
import { benchSweep } from "./sweep.ts";
import { benchThroughput } from "./throughput.ts";
import { benchVerify } from "./verify.ts";

const FIGURES = [
  "issue",
  "throughput",
  "decision",
  "verify",
  "sweep",
  "report",
  "coldstart",
  "inventory",
  "events",
  "organization",
  "impact",
] as const;
type Figure = (typeof FIGURES)[number];

/** Goals from issues 7 and 16 (CONTRACT §12); `max` means the figure should be at most the value. */
const GOALS: Record<
  string,
  { max: number } | { maxOf: (r: Record<string, unknown>) => number; text: string }
> = {
  issueOverheadRatio: { max: 1.15 },
  sweepScalingRatio: { max: 1.5 },
  sweepItemsRead100k: { maxOf: (r) => 2 * Number(r["sweepItemsRead1k"]), text: "2 × sweepItemsRead1k" },
  // CONTRACT §18 (issue 26): the report reads by the day.
  reportScalingRatio: { max: 1.5 },
  reportItemsRead3M: { maxOf: (r) => Number(r["reportItemsRead30k"]), text: "reportItemsRead30k" },
  decisionMicros100: { max: 300 },
  verifyMicros: { max: 400 },
  coldStartMs: { max: 400 },
  issueOverheadRatioAllIo: { max: 1.15 },
  issueHttpOverheadRatioAllIo: { max: 1.15 },
  issueHttpOverBrokerFloorRatio: { max: 1.15 },
  coldStartOverheadRatio: { max: 1.5 },
  decisionOverheadRatio: { max: 1.2 },
  verifyOverheadRatio: { max: 1.2 },
};

const USAGE = `usage: npm run bench [-- --out FILE] [--quick] [--only ${FIGURES.join(",")}] [--node PATH] [--cold-start-node-args "FLAGS"]

  --out FILE    write the JSON document there (default bench/results.json)
  --quick       fewer requests, shorter timings, a 10,000-grant sweep table: a smoke run, not figures to publish
  --only LIST   measure only these figures (comma-separated)
  --node PATH   run every figure on this Node binary (e.g. Lambda's Node 24) instead of the one running this
  --cold-start-node-args "FLAGS"   extra Node flags for the cold-start child (e.g. --cpu-prof)
`;

function usageError(message: string): never {
  process.stderr.write(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let parsed: ReturnType<typeof parseOptions>;
function parseOptions() {
  return parseArgs({
    args: process.argv.slice(2),
    options: {
      out: { type: "string" },
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "cold-start-node-args": { type: "string" },
      node: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
      /** Internal: run the figures in this process and write only their results. */
      child: { type: "boolean", default: false },
    },
  });
}
try {
  parsed = parseOptions();
} catch (err) {
  usageError((err as Error).message);
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const only = new Set<Figure>((values.only?.split(",") as Figure[] | undefined) ?? FIGURES);
for (const f of only)
  if (!FIGURES.includes(f)) usageError(`--only: unknown figure ${f} (one of ${FIGURES.join(", ")})`);
const quick = values.quick;
const here = dirname(fileURLToPath(import.meta.url));
const outFile = resolve(values.out ?? join(here, "results.json"));
/** The Node every figure runs on: each figure's child process (and what it spawns) uses this binary. */
const figureNode = values.node ? resolve(values.node) : process.execPath;
let figureNodeVersion: string;
try {
  figureNodeVersion = execFileSync(figureNode, ["--version"], { encoding: "utf8" }).trim();
} catch (err) {
  usageError(`--node: cannot run ${figureNode}: ${(err as Error).message}`);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const results: Record<string, unknown> = {};
const failures: Record<string, string> = {};
const ATTEMPTS = 4;
/** Figures measured with extra Node flags (after V8 aborted with the defaults). */
const nodeFlags: Record<string, string> = {};
const timings: Record<string, number> = {};
const loadBefore = loadavg()[0]!;
const t0 = performance.now();

async function step<T extends object>(name: Figure, run: () => Promise<T> | T): Promise<void> {
  if (!only.has(name)) return;
  log(`bench: ${name}…`);
  const started = performance.now();
  Object.assign(results, await run());
  timings[name] = Math.round((performance.now() - started) / 100) / 10;
}

async function measureHere(): Promise<void> {
  if (only.has("issue") || only.has("throughput")) {
    const broker = await startBenchBroker();
    try {
      await step("issue", () => benchIssuePath(broker, quick ? { requests: 300, warmup: 50 } : {}));
      await step("throughput", () => benchThroughput(broker, quick ? { requests: 300 } : {}));
    } finally {
      await broker.close();
    }
  }
  await step("decision", () => benchDecision(quick ? { minMs: 500 } : {}));
  await step("verify", () => benchVerify(quick ? { minMs: 500 } : {}));
  await step("sweep", () => benchSweep(quick ? { large: 10_000, rounds: 1 } : {}));
  await step("report", () => benchReport(quick ? { large: 300_000, rounds: 3 } : {}));
  await step("inventory", () => benchInventory());
  await step("events", () => benchEvents(quick ? { rounds: 2 } : {}));
  await step("organization", () => benchOrganization(quick ? { accounts: 100 } : {}));
  await step("impact", () => benchPolicyImpact(quick ? { decisions: 10_000 } : {}));
  if (!only.has("coldstart")) return;
  const work = await mkdtemp(join(tmpdir(), "credbroker-bench-bundles-"));
  try {
    const nodeArgs = values["cold-start-node-args"]?.split(" ").filter(Boolean);
    await step("coldstart", () =>
      benchColdStart(work, { ...(quick ? { runs: 3 } : {}), ...(nodeArgs ? { nodeArgs } : {}) }),
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs one figure in a child process (this script with --child) and returns its results. */
async function measureInChild(figure: Figure, extraFlags: string[] = []): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-bench-"));
  const out = join(dir, "figure.json");
  const args = [
    ...extraFlags,
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    "--child",
    "--only",
    figure,
    "--out",
    out,
  ];
  if (quick) args.push("--quick");
  // With `=`: the value starts with a dash, which parseArgs would otherwise take for an option.
  if (values["cold-start-node-args"]) args.push(`--cold-start-node-args=${values["cold-start-node-args"]}`);
  try {
    const code = await new Promise<number | null>((res, rej) => {
      const child = spawn(figureNode, args, { stdio: ["ignore", "inherit", "inherit"] });
      child.on("error", rej);
      child.on("exit", (c) => res(c));
    });
    if (code !== 0) throw new Error(`figure ${figure}: child exited with ${code}`);
    return JSON.parse(await readFile(out, "utf8")) as Record<string, unknown>;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (values.child) {
  await measureHere();
  await writeFile(outFile, JSON.stringify({ ...results, secondsPerFigure: timings }));
  process.exit(0);
}
for (const figure of FIGURES) {
  if (!only.has(figure)) continue;
  // Node 20's V8 sometimes aborts in its deoptimizer under sustained load (BENCHMARKS.md). The first two
  // attempts use Node's defaults; later ones add --no-turbo-inlining, which avoided the abort in every run
  // so far, and the JSON says so. If every attempt fails, record why instead of losing the other figures.
  let got: Record<string, unknown> | undefined;
  for (let attempt = 1; !got; attempt++) {
    const flags = attempt > 2 ? ["--no-turbo-inlining"] : [];
    try {
      got = await measureInChild(figure, flags);
      if (flags.length > 0) nodeFlags[figure] = flags.join(" ");
    } catch (err) {
      log(
        `bench: ${(err as Error).message}${attempt < ATTEMPTS ? `; trying again (${attempt + 1} of ${ATTEMPTS})` : ""}`,
      );
      if (attempt >= ATTEMPTS) {
        failures[figure] = `${(err as Error).message} (${ATTEMPTS} attempts)`;
        break;
      }
    }
  }
  if (!got) continue;
  const { secondsPerFigure, ...figures } = got as { secondsPerFigure: Record<string, number> };
  Object.assign(results, figures);
  Object.assign(timings, secondsPerFigure);
}

const document = {
  machine: {
    ...machineInfo(),
    // The Node the figures ran on (CONTRACT §12), which --node may make another than the runner's.
    node: figureNodeVersion,
    nodePath: figureNode,
    runnerNode: process.version,
    loadAverage1mBefore: loadBefore,
    loadAverage1mAfter: loadavg()[0]!,
  },
  quick,
  secondsPerFigure: timings,
  totalSeconds: Math.round((performance.now() - t0) / 1000),
  ...(Object.keys(failures).length > 0 ? { failures } : {}),
  ...(Object.keys(nodeFlags).length > 0 ? { nodeFlags } : {}),
  ...results,
};
await mkdir(dirname(outFile), { recursive: true });
await writeFile(outFile, `${JSON.stringify(document, null, 2)}\n`);

// The table: every scalar figure, with its goal when it has one.
const rows: string[][] = [["figure", "value", "goal"]];
for (const [key, value] of Object.entries(results)) {
  if (typeof value !== "number" && typeof value !== "string") continue;
  const goal = GOALS[key];
  let text = "";
  if (goal) {
    const limit = "max" in goal ? goal.max : goal.maxOf(results);
    const label = "max" in goal ? String(goal.max) : goal.text;
    text = `≤ ${label} ${typeof value === "number" && value <= limit ? "met" : "MISSED"}`;
  }
  rows.push([key, String(value), text]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join("  ")}\n`);
const top = results["tokenBundleTopPackages"] as { name: string; bytes: number }[] | undefined;
if (top)
  process.stdout.write(
    `token bundle by package: ${top.map((p) => `${p.name} ${Math.round(p.bytes / 1024)} KiB`).join(", ")}\n`,
  );
process.stdout.write(
  `machine: ${document.machine.nproc} × ${document.machine.cpuModel}, node ${document.machine.node}, load ${loadBefore.toFixed(1)}→${document.machine.loadAverage1mAfter.toFixed(1)}\n`,
);
for (const [figure, flags] of Object.entries(nodeFlags))
  process.stdout.write(`${figure} was measured with node ${flags} (V8 aborted with the defaults)\n`);
for (const [figure, why] of Object.entries(failures))
  process.stdout.write(`NOT MEASURED ${figure}: ${why}\n`);
process.stdout.write(`wrote ${outFile} (${document.totalSeconds} s)\n`);
