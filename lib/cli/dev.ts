// `credbroker dev` and `credbroker dev token`.

import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { AuditEvent } from "../core/audit.ts";
import { jsonLogger, type Logger } from "../core/logger.ts";
import { startDev } from "../local/dev-server.ts";
import { awsProviders } from "../runtime/aws-providers.ts";
import { postgresProviders } from "../runtime/postgres-providers.ts";
import { CliError } from "./errors.ts";
import { cliCommand } from "./invocation.ts";
import type { CliIo } from "./io.ts";

export const DEMO_CONFIG = fileURLToPath(new URL("../../examples/broker.config.yaml", import.meta.url));

/**
 * In a terminal, one readable line per audit event and JSON for everything else. Piped or redirected
 * (`2>audit.log`, `| jq`), every audit event is the JSON log line CONTRACT §6 asks for, as on Lambda.
 */
export function devLogger(io: CliIo, readableAudit: boolean): Logger {
  const json = jsonLogger(io.err);
  if (!readableAudit) return json;
  const brief = (e: AuditEvent) =>
    `${e.time.slice(11, 19)} ${e.kind}/${e.outcome.padEnd(7)} ${(e.workload ?? e.subject ?? "-").padEnd(14)} ${(e.task ?? "-").padEnd(16)}` +
    `${e.grantId ? ` grant=${e.grantId}` : ""}${e.errorCode ? ` error=${e.errorCode}` : ""}${e.policyIds?.length ? ` policies=${e.policyIds.join(",")}` : ""}\n`;
  return {
    info: (m, f) =>
      m === "audit" && f?.["audit"] ? io.err(brief(f["audit"] as AuditEvent)) : json.info(m, f),
    warn: json.warn,
    error: json.error,
  };
}

export async function devCommand(
  args: string[],
  io: CliIo,
  extra: {
    providers?: Parameters<typeof startDev>[0]["providers"];
    /** Readable audit lines; by default only when stderr is a terminal. */
    readableAudit?: boolean;
  } = {},
): Promise<void> {
  if (args[0] === "token") return devToken(args.slice(1), io);
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      port: { type: "string", default: "8787" },
      "data-dir": { type: "string", default: ".credbroker" },
      "sweep-interval": { type: "string", default: "15" },
      "in-memory": { type: "boolean", default: false },
      // CONTRACT §16: a second broker on a running one's table; the table outside either (an engine that
      // outlives a killed broker) with --dynamo-endpoint.
      peer: { type: "string" },
      "dynamo-endpoint": { type: "string" },
    },
  });
  let peer: Awaited<ReturnType<typeof import("../local/dev-peer.ts").fetchPeer>> | undefined;
  if (values.peer) {
    if (values["dynamo-endpoint"] || values["in-memory"])
      throw new CliError("--peer uses the peer's table: it takes no --dynamo-endpoint or --in-memory");
    const { fetchPeer } = await import("../local/dev-peer.ts");
    try {
      peer = await fetchPeer(values.peer);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
    // Said first: the lines below then describe the peer's table, its issuer URL and shared sweep leases.
    io.out(`credbroker dev: a peer of ${peer.url}, on its table (sweep under shard leases shared with it)\n`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError("--port must be a port number");
  const interval = Number(values["sweep-interval"]);
  if (!Number.isFinite(interval) || interval < 0)
    throw new CliError("--sweep-interval must be a number of seconds");
  const configPath = resolve(values.config ?? io.env["CREDBROKER_CONFIG"] ?? DEMO_CONFIG);
  const devLog = devLogger(io, extra.readableAudit ?? process.stderr.isTTY === true);
  const dev = await startDev({
    configPath,
    port,
    // A peer shares the first broker's keys (its data dir) unless told otherwise.
    dataDir:
      peer && !args.some((a) => a === "--data-dir" || a.startsWith("--data-dir="))
        ? peer.dataDir
        : values["data-dir"],
    inMemory: values["in-memory"],
    ...(peer ? { peer } : {}),
    ...(values["dynamo-endpoint"] ? { dynamoEndpoint: values["dynamo-endpoint"] } : {}),
    sweepIntervalSeconds: interval,
    log: devLog,
    providers:
      extra.providers ??
      ((resolved) => ({ ...awsProviders(resolved), ...postgresProviders(resolved, { log: devLog }) })),
  });
  const cli = cliCommand();
  io.out(
    [
      `credbroker dev: listening on ${dev.url}`,
      `  config  ${configPath} (version ${dev.deps.configVersion})`,
      `  table   ${dev.tableName} on ${dev.dynamo.endpoint} (dynalite${values["in-memory"] ? ", in memory" : `, data in ${resolve(values["data-dir"])}`})`,
      `  issuer  ${dev.issuerUrl}  (mint a token: ${cli} dev token --sub SUBJECT)`,
      `  approvers ${dev.devApprovers.issuer}  (mint one: ${cli} dev token --sub ALICE --approver)`,
      `  sweep   every ${interval} s`,
      `  console ${dev.consoleUrl}`,
      // CONTRACT §13: where a CI system's webhook (or a test's) delivers, when the config names one.
      ...(["github", "gitlab"] as const)
        .filter((s) => dev.deps.config.events?.[s])
        .map((s) => `  webhook ${dev.url}/events/${s}`),
      "",
      "Point admin commands in another shell at this broker:",
      `  export CREDBROKER_CONFIG=${configPath}`,
      `  export CREDBROKER_TABLE=${dev.tableName}`,
      `  export AWS_ENDPOINT_URL_DYNAMODB=${dev.dynamo.endpoint}`,
      `  export CREDBROKER_URL=${dev.url}`,
      "",
      "Ctrl-C stops.",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolveStop) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.out("\ncredbroker dev: stopping\n");
      dev.close().then(resolveStop, resolveStop);
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
}

async function devToken(args: string[], io: CliIo): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sub: { type: "string" },
      claim: { type: "string", multiple: true, default: [] },
      url: { type: "string" },
      lifetime: { type: "string" },
      approver: { type: "boolean", default: false },
    },
  });
  // The broker `dev` printed (export CREDBROKER_URL=…), so a dev server on another port needs no --url.
  const url = values.url ?? io.env["CREDBROKER_URL"] ?? "http://127.0.0.1:8787";
  if (!values.sub)
    throw new CliError("usage: credbroker dev token --sub SUBJECT [--approver] [--claim k=v]... [--url URL]");
  const claims: Record<string, string> = {};
  for (const c of values.claim ?? []) {
    const eq = c.indexOf("=");
    if (eq <= 0) throw new CliError(`--claim takes NAME=VALUE, got ${JSON.stringify(c)}`);
    claims[c.slice(0, eq)] = c.slice(eq + 1);
  }
  let res: Response;
  try {
    const issuerPath = values.approver ? "/dev/approvers" : "/dev/issuer";
    res = await fetch(`${url.replace(/\/$/, "")}${issuerPath}/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        sub: values.sub,
        claims,
        ...(values.lifetime ? { lifetimeSeconds: Number(values.lifetime) } : {}),
      }),
    });
  } catch {
    throw new CliError(`cannot reach credbroker dev at ${url}: is it running (npm start)?`);
  }
  const body = (await res.json().catch(() => ({}))) as { token?: string; error_description?: string };
  if (!res.ok || !body.token)
    throw new CliError(`dev issuer refused: ${body.error_description ?? res.status}`);
  io.out(`${body.token}\n`);
}
