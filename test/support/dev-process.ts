// The real `credbroker dev`: `node bin/credbroker.js dev` in a child process on a free port and a temp data
// dir, reached only over HTTP and through the exports it prints; stopped with SIGINT like a user's Ctrl-C.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { demoConfigFor } from "./dev.ts";

export interface DevProcess {
  url: string;
  port: number;
  configPath: string;
  dataDir: string;
  /** What the child printed for admin commands: CREDBROKER_CONFIG, CREDBROKER_TABLE, AWS_ENDPOINT_URL_DYNAMODB. */
  exports: Record<string, string>;
  /** Every line the child wrote, stdout and stderr. */
  lines: string[];
  proc: ChildProcess;
  /** SIGINT, then the exit: the code (null when a signal ended it) and the signal. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

/** A port whose next port is free too: dev puts dynalite on the API port + 1. */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await canListen(port)) && (await canListen(port + 1))) return port;
  }
  throw new Error("no two free adjacent ports");
}

/** A new data dir and port; or, given `restart`, the data dir, port and config of a stopped one. */
export async function startDevProcess(options: {
  sweepIntervalSeconds: number;
  env?: Record<string, string>;
  restart?: Pick<DevProcess, "dataDir" | "port" | "configPath">;
}): Promise<DevProcess> {
  const dataDir = options.restart?.dataDir ?? (await mkdtemp(join(tmpdir(), "cb-stress-")));
  const port = options.restart?.port ?? (await freePortPair());
  const configPath = options.restart?.configPath ?? (await demoConfigFor(dataDir, port));
  const proc = spawn(
    process.execPath,
    [
      "bin/credbroker.js",
      "dev",
      "--config",
      configPath,
      "--port",
      String(port),
      "--data-dir",
      dataDir,
      "--sweep-interval",
      String(options.sweepIntervalSeconds),
    ],
    { env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines: string[] = [];
  for (const stream of [proc.stdout!, proc.stderr!]) {
    let partial = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop()!;
      lines.push(...parts);
    });
    stream.on("end", () => {
      if (partial) lines.push(partial);
    });
  }
  const exited = once(proc, "exit") as Promise<[number | null, NodeJS.Signals | null]>;

  const deadline = Date.now() + 60_000;
  while (!lines.some((l) => l.startsWith("Ctrl-C stops."))) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(`credbroker dev exited before listening:\n${lines.join("\n")}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`credbroker dev did not start:\n${lines.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const exports: Record<string, string> = {};
  for (const l of lines) {
    const m = /^\s*export ([A-Z_]+)=(.*)$/.exec(l);
    if (m) exports[m[1]!] = m[2]!;
  }
  const url = /listening on (\S+)/.exec(lines.find((l) => l.includes("listening on"))!)![1]!;

  return {
    url,
    port,
    configPath,
    dataDir,
    exports,
    lines,
    proc,
    async stop(timeoutMs = 30_000) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGINT");
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return { code, signal };
    },
  };
}

/** One admin command (`node bin/credbroker.js …`) in its own process: exit code and output. */
export async function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ["bin/credbroker.js", ...args], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  proc.stdout.setEncoding("utf8").on("data", (c: string) => {
    stdout += c;
  });
  proc.stderr.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const [code] = (await once(proc, "close")) as [number | null];
  return { code, stdout, stderr };
}
