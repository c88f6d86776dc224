// `credbroker console [--port 8790] [--config FILE] [--table T] [--no-open]`: the web console (CONTRACT
// §11, lib/console) over the table the admin commands use, with their config, AWS credentials and
// providers (so a revoke reaches IAM at once). Prints the URL with its token and opens a browser unless
// --no-open (or CI is set: a test or a pipeline never starts a browser).
import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { startConsole } from "../console/server/start.ts";
import { jsonLogger } from "../core/logger.ts";
import { adminDecidingDeps } from "./admin-deps.ts";
import { tableFrom } from "./env.ts";
import { CliError } from "./errors.ts";
import { inventoryStoreFromEnv } from "./inventory.ts";
import type { CliIo } from "./io.ts";

export const CONSOLE_USAGE =
  "usage: credbroker console [--port 8790] [--config FILE] [--table T] [--no-open]";

export async function consoleCommand(
  args: string[],
  io: CliIo,
  options: { signal?: AbortSignal; onReady?: (url: string) => void } = {},
): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8790" },
      config: { type: "string" },
      table: { type: "string" },
      "no-open": { type: "boolean", default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`--port must be a port number\n${CONSOLE_USAGE}`, 2);
  const table = tableFrom(values.table, io.env);
  const log = jsonLogger(io.err);
  const deps = await adminDecidingDeps({ config: values.config, table }, io.env, log);
  let running: Awaited<ReturnType<typeof startConsole>>;
  try {
    const inventory = await inventoryStoreFromEnv(table, io.env);
    running = await startConsole({ ...deps, table, inventory }, port);
  } catch (err) {
    if ((err as { code?: string }).code === "EADDRINUSE")
      throw new CliError(`port ${port} is in use: pass --port`);
    throw err;
  }
  io.out(
    `credbroker console: table ${table}, config ${deps.configVersion}\n  ${running.url}\n\nCtrl-C stops.\n`,
  );
  options.onReady?.(running.url);
  if (!values["no-open"] && !io.env["CI"]) openBrowser(running.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      options.signal?.removeEventListener("abort", stop);
      running.close().then(resolve, resolve);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    options.signal?.addEventListener("abort", stop);
  });
}

/** Best effort: a machine without a desktop still has the printed URL. */
function openBrowser(url: string): void {
  const [cmd, ...args] =
    process.platform === "darwin"
      ? ["open", url]
      : process.platform === "win32"
        ? ["cmd", "/c", "start", "", url]
        : ["xdg-open", url];
  try {
    const child = spawn(cmd!, args, { stdio: "ignore", detached: true });
    child.on("error", () => {});
    child.unref();
  } catch {
    // Nothing to open it with.
  }
}
