// The `credbroker` CLI entry: dispatches to lib/cli. Errors print one line, never a stack trace.
import { jsonSchemaDocument } from "../lib/config/json-schema.ts";
import { auditCommand } from "../lib/cli/audit.ts";
import { devCommand } from "../lib/cli/dev.ts";
import { configPathFrom, storeFromEnv } from "../lib/cli/env.ts";
import { CliError } from "../lib/cli/errors.ts";
import { credentialProcessCommand } from "../lib/cli/credential-process.ts";
import { exchangeCommand } from "../lib/cli/exchange.ts";
import { grantsCommand } from "../lib/cli/grants.ts";
import { processIo } from "../lib/cli/io.ts";
import { policyCommand } from "../lib/cli/policy.ts";
import { reportCommand } from "../lib/cli/report.ts";
import { signalsCommand } from "../lib/cli/signals.ts";
import { sweepCommand } from "../lib/cli/sweep.ts";
import { ConfigError } from "../lib/config/resolve.ts";
import { loadConfigFile } from "../lib/config/load.ts";
import { awsProviders } from "../lib/runtime/aws-providers.ts";

const USAGE = `usage: credbroker <command>

  dev [--config FILE] [--port 8787] [--data-dir DIR] [--sweep-interval SECONDS]
  dev token --sub SUBJECT [--claim k=v]... [--url URL]
  grants list [--status S] [--workload W] [--json] [--limit N]
  grants show ID [--json]
  grants revoke ID --reason TEXT
  sweep [--config FILE] [--budget SECONDS] [--json]
  signals set WORKLOAD NAME=VALUE... [--config FILE] [--json]
  signals clear WORKLOAD NAME... [--config FILE] [--json]
  policy validate [--config FILE]
  policy test CASES_FILE... [--config FILE] [--json]
  report [--config FILE] [--since ISO | --days N] [--json | --format table|json|markdown]
  exchange --url URL --task TASK (--token-file F | --token-env VAR | --github) [--duration N] [--purpose TEXT] [--format json|env]
  credential-process --url URL --task TASK (--token-file F | --token-env VAR | --github) [--audience A]
  audit [--since ISO] [--until ISO] [--workload W] [--task T] [--outcome allow|deny|revoke|expire|...] [--json] [--limit N] [--follow]
  schema                      print the config's JSON Schema

Admin commands use --table or CREDBROKER_TABLE and the AWS SDK's environment.
`;

function tableFlag(args: string[]): string | undefined {
  const i = args.indexOf("--table");
  return i >= 0 ? args[i + 1] : args.find((a) => a.startsWith("--table="))?.slice(8);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const io = processIo;
  switch (command) {
    case "dev":
      return devCommand(args, io);
    case "grants":
      return grantsCommand(args, io, async () => ({
        store: storeFromEnv(tableFlag(args), io.env),
        // With the config, an aws-sts revoke reaches IAM at once; without it, the sweep applies it.
        ...(args[0] === "revoke" && io.env["CREDBROKER_CONFIG"]
          ? { providers: awsProviders(await loadConfigFile(io.env["CREDBROKER_CONFIG"])) }
          : {}),
      }));
    case "audit":
      return auditCommand(args, io, async () => storeFromEnv(tableFlag(args), io.env));
    case "sweep":
      return sweepCommand(args, io);
    case "signals":
      return signalsCommand(args, io);
    case "exchange":
      return exchangeCommand(args, io);
    case "credential-process":
      return credentialProcessCommand(args, io);
    case "policy":
      return policyCommand(args, io);
    case "report":
      await reportCommand(args, io, async () => storeFromEnv(tableFlag(args), io.env));
      return;
    case "schema":
      io.out(`${JSON.stringify(jsonSchemaDocument(), null, 2)}\n`);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(USAGE);
      return;
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}\n${USAGE}`, 2);
  }
}

main(process.argv.slice(2)).then(
  () => {
    // Admin commands hold SDK sockets open; the CLI is done once main resolves (dev resolves on Ctrl-C).
    process.exit(process.exitCode ?? 0);
  },
  (err: unknown) => {
    if (err instanceof CliError || err instanceof ConfigError) {
      process.stderr.write(`credbroker: ${err.message}\n`);
      process.exit(err instanceof CliError ? err.exitCode : 1);
    }
    const e = err as Error;
    const hint = e.name === "ResourceNotFoundException" ? " (is the table right? credbroker dev prints the exports)" : "";
    process.stderr.write(`credbroker: ${e.name}: ${e.message}${hint}\n`);
    process.exit(1);
  },
);
void configPathFrom;
