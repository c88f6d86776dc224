// Figure 2: issued jwt-task grants per second through the dev server, one request at a time and with 16
// in flight. The load generator is a separate Node process (bench/load-generator.ts), and so are dynalite
// and the STS fixture (bench/services.ts), so the broker's process (the dev server and its handlers) is
// measured alone; its CPU time over the run gives grants per CPU-second. Each run issues a fixed number of
// grants; tokens are minted beforehand.
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchBroker } from "./harness.ts";
import { round } from "./stats.ts";

export interface ThroughputFigures {
  issuePerSecondC1: number;
  issuePerSecondC16: number;
  /**
   * Grants per second per core at C16: grants over the CPU seconds the broker's process used (user + system)
   * during the run, i.e. what one fully busy core sustains (dynalite runs in a process of its own).
   */
  issuePerSecondPerCoreC16: number;
  /** The broker process's CPU use during the C16 run, in cores (1 = one core fully busy). */
  brokerCoresBusyC16: number;
}

const GENERATOR = fileURLToPath(new URL("./load-generator.ts", import.meta.url));

async function rate(
  broker: BenchBroker,
  tokens: string[],
  concurrency: number,
): Promise<{ perSecond: number; perCpuSecond: number; coresBusy: number }> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-load-"));
  try {
    const jobFile = join(dir, "job.json");
    await writeFile(
      jobFile,
      JSON.stringify({ url: broker.dev.url, task: "read-reports", concurrency, tokens }),
    );
    const cpu0 = process.cpuUsage();
    const out = await new Promise<string>((resolve, reject) => {
      // The same Node and loader as this process (tsx, or another --node binary).
      const child = spawn(process.execPath, [...process.execArgv, GENERATOR, jobFile], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let stdout = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`load generator exited ${code}`)),
      );
    });
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const { issued, seconds } = JSON.parse(out.trim().split("\n").pop()!) as {
      issued: number;
      seconds: number;
    };
    // The CPU window includes the generator's start-up, when the broker is idle: it adds no broker CPU.
    return { perSecond: issued / seconds, perCpuSecond: issued / cpuS, coresBusy: cpuS / seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function benchThroughput(
  broker: BenchBroker,
  options: { requests?: number } = {},
): Promise<ThroughputFigures> {
  const requests = options.requests ?? 1_500;
  const tokens = await broker.mintTokens(requests * 2 + 200);
  await rate(broker, tokens.slice(0, 200), 4); // warm-up
  const c1 = await rate(broker, tokens.slice(200, 200 + requests), 1);
  const c16 = await rate(broker, tokens.slice(200 + requests), 16);
  return {
    issuePerSecondC1: round(c1.perSecond, 0),
    issuePerSecondC16: round(c16.perSecond, 0),
    issuePerSecondPerCoreC16: round(c16.perCpuSecond, 0),
    brokerCoresBusyC16: round(c16.coresBusy, 2),
  };
}
