// `credbroker policy validate`: the same validation as start-up and `cdk synth`, for CI and editors.
import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.ts";
import { ConfigError } from "../config/resolve.ts";
import { configPathFrom } from "./env.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import { policyTestCommand } from "./policy-test.ts";

export async function policyCommand(args: string[], io: CliIo): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === "test") {
    await policyTestCommand(rest, io);
    return;
  }
  if (sub === "impact") {
    const { policyImpactCommand } = await import("./policy-impact.ts");
    const { storeFromEnv } = await import("./env.ts");
    const { exitCode } = await policyImpactCommand(rest, io, async (table) => storeFromEnv(table, io.env));
    if (exitCode !== 0) process.exitCode = exitCode;
    return;
  }
  if (sub !== "validate")
    throw new CliError(
      "usage: credbroker policy validate [--config FILE]\n       credbroker policy test CASES_FILE... [--config FILE] [--json]\n" +
        "       credbroker policy impact --config NEW [--deployed FILE] [--days N | --since ISO] [--json | --format table|json|markdown] [--fail-on-change]",
    );
  const { values } = parseArgs({ args: rest, options: { config: { type: "string" } } });
  const path = configPathFrom(values.config, io.env);
  try {
    const resolved = await loadConfigFile(path);
    const policies = Object.values(resolved.policies.policies);
    const exceptions = policies.filter((p) => p.exception);
    const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
    io.out(
      `${path}: valid (version ${resolved.version}): ${n(resolved.config.issuers.length, "issuer")}, ` +
        `${n(resolved.config.workloads.length, "workload")}, ${n(resolved.config.tasks.length, "task")}, ` +
        `${n(policies.length, "policy", "policies")} in ${n(resolved.policyFiles.length, "file")}, ${n(exceptions.length, "exception")}\n`,
    );
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 1);
    throw err;
  }
}
