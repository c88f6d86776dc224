// Runs the real `credbroker` entry (bin/credbroker.js through tsx) as a child process, the way the AWS SDKs
// and the AWS CLI run a credential_process, with no AWS credentials in its environment.
import { execFile } from "node:child_process";
import { resolve } from "node:path";

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

export function runCli(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Promise<CliRun> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** A shell-safe rendering of argv for a `credential_process =` line (paths here never hold quotes). */
export const commandLine = (argv: string[]) =>
  argv.map((a) => (/^[\w./:=@-]+$/.test(a) ? a : `"${a}"`)).join(" ");
