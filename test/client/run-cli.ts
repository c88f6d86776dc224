// Runs the real `credbroker` entry (bin/credbroker.js through tsx) as a child process, the way the AWS SDKs
// and the AWS CLI run a credential_process, with no AWS credentials in its environment.
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";

export const CLI = resolve("bin/credbroker.js");

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The parent's environment without AWS credentials or profiles, so nothing but the broker can supply them. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^AWS_/.test(k)) env[k] = v;
  return { ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...extra };
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  options: { entry?: string; user?: { uid: number; gid: number } } = {},
): Promise<CliRun> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      [options.entry ?? CLI, ...args],
      { env, timeout: 60_000, ...options.user },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        res({ code, stdout, stderr });
      },
    );
  });
}

/**
 * A temp dir in which nothing can be created, as in a container with a read-only root and no /tmp volume.
 * It is a regular file: creating anything below it fails for every user, root included, so the tests need
 * neither a read-only mount nor a second user (whose access to the checkout CI does not promise).
 */
export async function uncreatableTmp(parent: string): Promise<string> {
  const path = join(parent, "read-only-tmp");
  await writeFile(path, "");
  return path;
}

/** A shell-safe rendering of argv for a `credential_process =` line (paths here never hold quotes). */
export const commandLine = (argv: string[]) =>
  argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `"${a}"`)).join(" ");

/** Whether a directory can be created in `dir` (so a test can show its read-only setup is real). */
export function canCreateIn(dir: string): Promise<boolean> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ["-e", 'require("node:fs").mkdirSync(require("node:path").join(process.argv[1], "probe"))', dir],
      { timeout: 60_000 },
      (err) => res(!err),
    );
  });
}
