// `credbroker dev` in tests: the demo config and policies copied into a temp dir and pointed at the server's
// own port, so the dev issuer named in the config is the one the server runs.
import { cp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Logger } from "../../lib/core/logger.ts";

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function captureLogger(logs: string[]): Logger {
  const capture = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    logs.push(JSON.stringify({ level, message, ...fields }));
  };
  return { info: capture("info"), warn: capture("warn"), error: capture("error") };
}

/** Writes the demo config for a given port into dataDir; returns its path. */
export async function demoConfigFor(dataDir: string, port: number): Promise<string> {
  await cp("examples/policies", join(dataDir, "policies"), { recursive: true });
  const config = (await readFile("examples/broker.config.yaml", "utf8")).replaceAll(
    "http://127.0.0.1:8787",
    `http://127.0.0.1:${port}`,
  );
  const path = join(dataDir, "broker.config.yaml");
  await writeFile(path, config);
  return path;
}
