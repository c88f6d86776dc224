// The `credbroker` CLI entry: dispatches to lib/cli. Each command is imported when it runs, so a
// one-shot client such as `credential-process` does not load Cedar, CDK or the admin commands.
// Errors print one line, never a stack trace.
import { processIo } from "../lib/cli/io.ts";

const USAGE = `usage: credbroker <command>

  dev [--config FILE] [--port 8787] [--data-dir DIR] [--sweep-interval SECONDS] [--peer URL] [--dynamo-endpoint URL]
  dev token --sub SUBJECT [--approver] [--claim k=v]... [--url URL]
  grants list [--status S] [--workload W] [--json] [--limit N]
  grants show ID [--json]
  grants revoke ID --reason TEXT
  sweep [--config FILE] [--budget SECONDS] [--force] [--json]
  signals set WORKLOAD NAME=VALUE... [--config FILE] [--force] [--json]
  signals clear WORKLOAD NAME... [--config FILE] [--force] [--json]
  events put FILE [--config FILE] [--force]   (a GuardDuty or Security Hub finding, as EventBridge delivers it)
  policy validate [--config FILE]
  policy test CASES_FILE... [--config FILE] [--json]
  policy impact --config NEW [--deployed FILE] [--days N | --since ISO] [--json | --format table|json|markdown] [--fail-on-change]
  report [--config FILE] [--since ISO | --days N] [--json | --format table|json|markdown|html] [--out FILE]
  inventory sync [--account ID] [--credential-report FILE --authorization-details FILE [--secrets FILE] [--account-id ID]] [--json]
  inventory list [--kind user|role|group|key|secret] [--debt] [--json]
  inventory review ARN --note TEXT [--by NAME]
  exchange --url URL --task TASK (--token-file F | --token-env VAR | --github [--audience A]) [--duration N] [--purpose TEXT] [--timeout SECONDS] [--wait SECONDS] [--format json|env]
  credential-process --url URL --task TASK (--token-file F | --token-env VAR | --github [--audience A]) [--duration N] [--purpose TEXT] [--timeout SECONDS] [--wait SECONDS]
  approvals list|show ID|approve ID|deny ID [--reason TEXT] (--token-file F | --token-env VAR) [--url URL] [--json]
  console [--port 8790] [--config FILE] [--table T] [--no-open]
  audit [--since ISO] [--until ISO] [--workload W] [--task T] [--outcome allow|deny|revoke|expire|...] [--json] [--limit N] [--follow]
  schema                      print the config's JSON Schema

Admin commands use --table or CREDBROKER_TABLE and the AWS SDK's environment.
`;

async function main(argv: string[]): Promise<void> {
  const [command, ...args] = argv;
  const io = processIo;
  switch (command) {
    case "dev":
      return (await import("../lib/cli/dev.ts")).devCommand(args, io);
    case "grants":
      return (await import("../lib/cli/grants.ts")).grantsCommand(args, io);
    case "audit": {
      const { storeFromEnv } = await import("../lib/cli/env.ts");
      return (await import("../lib/cli/audit.ts")).auditCommand(args, io, async (table) =>
        storeFromEnv(table, io.env),
      );
    }
    case "sweep":
      return (await import("../lib/cli/sweep.ts")).sweepCommand(args, io);
    case "signals":
      return (await import("../lib/cli/signals.ts")).signalsCommand(args, io);
    case "events":
      return (await import("../lib/cli/events.ts")).eventsCommand(args, io);
    case "exchange":
      return (await import("../lib/cli/exchange.ts")).exchangeCommand(args, io);
    case "credential-process":
      return (await import("../lib/cli/credential-process.ts")).credentialProcessCommand(args, io);
    case "approvals":
      return (await import("../lib/cli/approvals.ts")).approvalsCommand(args, io);
    case "policy":
      return (await import("../lib/cli/policy.ts")).policyCommand(args, io);
    case "report": {
      const { storeFromEnv } = await import("../lib/cli/env.ts");
      const { inventoryStoreFromEnv } = await import("../lib/cli/inventory.ts");
      await (await import("../lib/cli/report.ts")).reportCommand(
        args,
        io,
        async (table) => storeFromEnv(table, io.env),
        Date.now,
        (table) => inventoryStoreFromEnv(table, io.env),
      );
      return;
    }
    case "inventory":
      return (await import("../lib/cli/inventory.ts")).inventoryCommand(args, io);
    case "console":
      return (await import("../lib/cli/console.ts")).consoleCommand(args, io);
    case "schema":
      io.out(
        `${JSON.stringify((await import("../lib/config/json-schema.ts")).jsonSchemaDocument(), null, 2)}\n`,
      );
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      io.out(USAGE);
      return;
    default:
      throw Object.assign(new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`), {
        name: "CliError",
        exitCode: 2,
      });
  }
}

main(process.argv.slice(2)).then(
  () => {
    // Admin commands hold SDK sockets open; the CLI is done once main resolves (dev resolves on Ctrl-C).
    // Exit only once stdout has drained: a piped `--json` document must arrive whole.
    process.stdout.write("", () => process.exit(process.exitCode ?? 0));
  },
  (err: unknown) => {
    const e = err as Error & { exitCode?: number; code?: string };
    // A mistyped flag is a usage error (exit 2), not a crash.
    if (typeof e?.code === "string" && e.code.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`credbroker: ${e.message}\n${USAGE}`);
      process.exit(2);
    }
    // Matched by name: importing the error classes here would load the modules this file defers.
    if (e?.name === "CliError" || e?.name === "ConfigError") {
      process.stderr.write(`credbroker: ${e.message}\n`);
      process.exit(e.name === "CliError" ? (e.exitCode ?? 1) : 1);
    }
    const hint =
      e.name === "ResourceNotFoundException"
        ? " (is the table right? credbroker dev prints the exports)"
        : "";
    process.stderr.write(`credbroker: ${e.name}: ${e.message}${hint}\n`);
    process.exit(1);
  },
);
