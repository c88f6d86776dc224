// Runs the real `credbroker` entry (bin/credbroker.js through tsx) as a child process, the way the AWS SDKs
// and the AWS CLI run a credential_process, with no AWS credentials in its environment.
import { execFile } from "node:child_process";
import { chmod, mkdir } from "node:fs/promises";
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

/** The pod's non-root user in examples/kubernetes/deployment.yaml. */
export const POD_USER = { uid: 10001, gid: 10001 };

/**
 * A temp dir the CLI cannot write, as in a container with a read-only root and no /tmp volume. Permissions
 * do not bind root, so when the tests run as root the CLI must run as POD_USER (see `runAs`).
 */
export async function unwritableDir(parent: string): Promise<string> {
  const dir = join(parent, "read-only-tmp");
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o555);
  return dir;
}

/** Run as POD_USER when the tests run as root, so that permissions apply; otherwise as ourselves. */
export const runAs = (): { user?: { uid: number; gid: number } } =>
  process.getuid?.() === 0 ? { user: POD_USER } : {};

/** A shell-safe rendering of argv for a `credential_process =` line (paths here never hold quotes). */
export const commandLine = (argv: string[]) =>
  argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `"${a}"`)).join(" ");

/** Whether that user can create a directory in `dir` (so a test can show its read-only setup is real). */
export function canCreateIn(dir: string, as: { user?: { uid: number; gid: number } }): Promise<boolean> {
  return new Promise((res) => {
    execFile(
      process.execPath,
      ["-e", 'require("node:fs").mkdirSync(require("node:path").join(process.argv[1], "probe"))', dir],
      { timeout: 60_000, ...as.user },
      (err) => res(!err),
    );
  });
}
