// `credbroker dev`: the Lambda handlers behind a local HTTP server, an embedded dynalite, the dev issuer,
// and the sweep on an interval.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { DynamoInventoryStore } from "../aws/inventory-store.ts";
import { DynamoLeaseStore } from "../aws/lease-store.ts";
import { ensureTable } from "../aws/table-definition.ts";
import { loadConfigFile } from "../config/load.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import { createConsoleApp } from "../console/server/console-app.ts";
import type { Clock } from "../core/clock.ts";
import { systemClock } from "../core/clock.ts";
import type { BrokerDeps } from "../core/deps.ts";
import { MethodNotAllowed, NotFound } from "../core/errors.ts";
import type { Logger } from "../core/logger.ts";
import { type SweepSummary, sweepDue } from "../core/sweep.ts";
import { ShardLeases } from "../core/sweep-lease.ts";
import { bodyBytes, type HttpEvent, type HttpResult, jsonResult } from "../http/apigw.ts";
import { createEventRoutes } from "../http/event-routes.ts";
import { createHandlers, errorResult } from "../http/handlers.ts";
import { type BrokerAdapters, buildBrokerDeps } from "../runtime/broker-deps.ts";
import { githubProvider } from "../runtime/github-provider.ts";
import { secretProvider } from "../runtime/secret-provider.ts";
import {
  createDevIssuer,
  DEFAULT_DEV_PORT,
  DEV_APPROVER_ISSUER_PATH,
  DEV_ISSUER_PATH,
  type DevIssuer,
  retargetDevIssuers,
} from "./dev-issuer.ts";
import { DEV_PEER_PATH, type DevPeer, peerIssuers } from "./dev-peer.ts";
import { type LocalDynamo, remoteDynamo, startLocalDynamo } from "./dynalite.ts";
import { serve } from "./http-adapter.ts";
import { createLocalSigner, loadOrCreateSigningKey } from "./local-signer.ts";
import { localTokenVault } from "./local-token-vault.ts";

export interface DevOptions {
  configPath: string;
  port?: number;
  host?: string;
  dataDir?: string;
  /** Keep the table in memory instead of the data dir. */
  inMemory?: boolean;
  sweepIntervalSeconds?: number;
  /** dynalite's port; default the API port + 1 (random when the API port is 0). */
  dynamoPort?: number;
  /**
   * A DynamoDB-compatible engine already running elsewhere (the bench runs one in its own process, as AWS
   * would be) instead of the embedded one; the table is created there if it is missing.
   */
  dynamoEndpoint?: string;
  tableName?: string;
  clock?: Clock;
  log: Logger;
  /** Extra providers (aws-sts) given the resolved config and store; see lib/runtime. */
  providers?: (resolved: ResolvedConfig) => BrokerAdapters["providers"];
  verifier?: BrokerAdapters["verifier"];
  onSweep?: (summary: SweepSummary) => void;
  /** Run as a second broker on this peer's table (`credbroker dev --peer URL`; see dev-peer.ts). */
  peer?: DevPeer;
  /** The sweep's shard leases (CONTRACT §16); default 120 s. */
  leaseSeconds?: number;
}

export interface DevBroker {
  url: string;
  /** The web console of this broker's table (CONTRACT §11), with its token. */
  consoleUrl: string;
  issuerUrl: string;
  devIssuer: DevIssuer;
  /** The dev approver issuer at <url>/dev/approvers (CONTRACT §10). */
  devApprovers: DevIssuer;
  dynamo: LocalDynamo;
  tableName: string;
  configPath: string;
  deps: BrokerDeps;
  server: Server;
  sweep(): Promise<SweepSummary>;
  close(): Promise<void>;
}

export async function startDev(options: DevOptions): Promise<DevBroker> {
  const configPath = resolve(options.configPath);
  const resolved = await loadConfigFile(configPath);
  const peer = options.peer;
  const dataDir = resolve(options.dataDir ?? peer?.dataDir ?? ".credbroker");
  const tableName = peer?.tableName ?? options.tableName ?? "credbroker";
  const clock = options.clock ?? systemClock;

  // dynalite listens on the next port, so the printed exports stay the same across restarts.
  const dynamoPort = options.dynamoPort ?? (options.port ? options.port + 1 : 0);
  const dynamoEndpoint = peer?.dynamoEndpoint ?? options.dynamoEndpoint;
  const dynamo = dynamoEndpoint
    ? remoteDynamo(dynamoEndpoint)
    : await startLocalDynamo({
        port: dynamoPort,
        ...(options.inMemory ? {} : { path: join(dataDir, "dynamodb") }),
      });
  try {
    await ensureTable(dynamo.client, tableName);
  } catch (err) {
    await dynamo.close();
    throw err;
  }
  const store = new DynamoGrantStore({
    client: dynamo.client,
    tableName,
    grantRetentionDays: resolved.config.grantRetentionDays,
    auditRetentionDays: resolved.config.auditRetentionDays,
    clock: () => clock.now(),
  });

  // Bind first: the broker's own URL (issuerUrl of its tokens) is the address it listens on.
  const server = createServer();
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(options.port ?? DEFAULT_DEV_PORT, options.host ?? "127.0.0.1", () => res());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  // A peer answers for the first broker's dev issuers (same keys, same iss).
  const devIssuer = await createDevIssuer(
    peer?.issuer ?? `${url}${DEV_ISSUER_PATH}`,
    await loadOrCreateSigningKey(join(dataDir, "dev-issuer-key.json")),
  );
  const devApprovers = await createDevIssuer(
    peer?.approvers ?? `${url}${DEV_APPROVER_ISSUER_PATH}`,
    await loadOrCreateSigningKey(join(dataDir, "dev-approver-key.json")),
  );
  const signer = await createLocalSigner(await loadOrCreateSigningKey(join(dataDir, "signing-key.json")));

  // The demo config names the dev issuer on the default port; on any other port it is still this server's.
  const runtime: ResolvedConfig = {
    ...resolved,
    config: {
      ...resolved.config,
      issuerUrl: peer?.url ?? url,
      issuers: peer
        ? peerIssuers(
            retargetDevIssuers(resolved.config.issuers, devIssuer.issuer, devApprovers.issuer),
            peer,
            url,
          )
        : retargetDevIssuers(resolved.config.issuers, devIssuer.issuer, devApprovers.issuer),
    },
  };
  if (!runtime.config.issuers.some((i) => i.issuer === devIssuer.issuer))
    options.log.warn("no configured issuer trusts the dev issuer; dev tokens will be refused", {
      devIssuer: devIssuer.issuer,
    });
  const deps = await buildBrokerDeps(runtime, {
    store,
    signer,
    clock,
    log: options.log,
    providers: {
      // GitHub tokens are kept encrypted under a key in the data dir, in place of KMS.
      github: githubProvider(runtime, {
        store,
        log: options.log,
        clock,
        configDir: dirname(configPath),
        vault: localTokenVault(options.inMemory ? undefined : join(dataDir, "github-token.key")),
      }),
      // Secrets Manager only when a secret task is asked for: dev without AWS answers those with 503.
      secret: secretProvider({ store, log: options.log, clock }),
      ...options.providers?.(runtime),
    },
    ...(options.verifier ? { verifier: options.verifier } : {}),
  });
  const handlers = createHandlers(deps);
  // CONTRACT §13: the webhook routes, their secrets from the environment (`{ env: VAR }`) in dev.
  const eventRoutes = createEventRoutes(deps, { env: process.env });

  /**
   * `POST <issuer>/token` of a dev issuer: JSON {sub, claims} in, {token} out. Only `application/json`: a
   * web page can send a form or `text/plain` cross-site without asking first, but JSON needs a CORS
   * preflight that this server never answers.
   */
  const mintDevToken = async (issuer: DevIssuer, event: HttpEvent): Promise<HttpResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    if (method !== "POST") return errorResult(new MethodNotAllowed());
    const type = (event.headers?.["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "application/json")
      return jsonResult(415, {
        error: "unsupported_media_type",
        error_description: "the dev issuer takes application/json {sub, claims}",
      });
    let input: { sub?: unknown; claims?: unknown; lifetimeSeconds?: unknown };
    try {
      input = JSON.parse(bodyBytes(event).toString("utf8") || "{}");
    } catch {
      return jsonResult(400, {
        error: "invalid_request",
        error_description: "body must be JSON {sub, claims}",
      });
    }
    if (typeof input.sub !== "string" || input.sub === "")
      return jsonResult(400, { error: "invalid_request", error_description: "sub is required" });
    const claims =
      input.claims && typeof input.claims === "object" ? (input.claims as Record<string, unknown>) : {};
    const lifetime = typeof input.lifetimeSeconds === "number" ? input.lifetimeSeconds : 600;
    const token = await issuer.mint({
      sub: input.sub,
      claims,
      audience: runtime.config.audience,
      lifetimeSeconds: lifetime,
      nowMs: clock.now(),
    });
    return jsonResult(200, { token });
  };

  const route = async (event: HttpEvent): Promise<HttpResult> => {
    const path = event.rawPath;
    switch (path) {
      case "/token":
        return handlers.token(event);
      case "/introspect":
        return handlers.introspect(event);
      case "/revoke":
        return handlers.revoke(event);
      case "/.well-known/jwks.json":
        return handlers.jwks(event);
      case "/.well-known/oauth-authorization-server":
        return handlers.metadata(event);
      case "/dev/issuer/.well-known/openid-configuration":
        return jsonResult(200, devIssuer.discovery());
      case "/dev/issuer/jwks.json":
        return jsonResult(200, await devIssuer.jwks());
      case "/dev/issuer/token":
        return mintDevToken(devIssuer, event);
      case "/dev/approvers/.well-known/openid-configuration":
        return jsonResult(200, devApprovers.discovery());
      case "/dev/approvers/jwks.json":
        return jsonResult(200, await devApprovers.jwks());
      case "/dev/approvers/token":
        return mintDevToken(devApprovers, event);
      case DEV_PEER_PATH:
        return jsonResult(200, {
          url: runtime.config.issuerUrl,
          tableName,
          dynamoEndpoint: dynamo.endpoint,
          dataDir,
          issuer: devIssuer.issuer,
          approvers: devApprovers.issuer,
        } satisfies DevPeer);
      default:
        if (path === "/approvals" || path.startsWith("/approvals/")) return handlers.approvals(event);
        if (eventRoutes.routes[path]) return eventRoutes.routes[path](event);
        return errorResult(new NotFound());
    }
  };
  // The console of this table on this port under /console/ (same token, cookie and Host rules as
  // `credbroker console`); everything else is the broker's API.
  const consoleApp = createConsoleApp(
    { ...deps, table: tableName, inventory: new DynamoInventoryStore(dynamo.client, tableName) },
    { basePath: "/console/", port: () => port },
  );
  const api = serve(route, eventRoutes.bodyLimit);
  server.on("request", (req, res) => {
    const path = req.url ?? "/";
    if (path === "/console" || path.startsWith("/console/") || path.startsWith("/console?"))
      void consoleApp.handle(req, res);
    else if (!sameOriginLoopback(req, port)) refuseForeign(res);
    else void api(req, res);
  });

  // Shard leases, so that peers on one table share the sweep and one takes over a lost one's shards. The
  // holder is this server's address: a restart on the same port takes its own leases back at once.
  const leases = new ShardLeases(
    new DynamoLeaseStore(dynamo.client, tableName),
    `dev-${url.replace(/^http:\/\//, "")}`,
    clock,
    options.leaseSeconds,
  );
  let sweeping: Promise<SweepSummary> | undefined;
  const sweep = () => {
    sweeping ??= sweepDue(deps, { budgetMs: 10_000, leases }).finally(() => {
      sweeping = undefined;
    });
    return sweeping;
  };
  const interval = (options.sweepIntervalSeconds ?? 15) * 1000;
  const timer =
    interval > 0
      ? setInterval(() => {
          // A run longer than the interval is still going: the tick would only join it and report it twice.
          if (sweeping) return;
          sweep()
            .then((s) => {
              options.onSweep?.(s);
              if (s.expired + s.revoked + s.failed + s.retried + (s.approvalsLapsed ?? 0) > 0)
                options.log.info("sweep", { summary: s });
            })
            .catch((err) => options.log.warn("sweep failed", { error: (err as Error).name }));
        }, interval)
      : undefined;
  timer?.unref();

  return {
    url,
    consoleUrl: consoleApp.url(url),
    issuerUrl: devIssuer.issuer,
    devIssuer,
    devApprovers,
    dynamo,
    tableName,
    configPath,
    deps,
    server,
    sweep,
    async close() {
      if (timer) clearInterval(timer);
      await sweeping?.catch(() => {});
      await new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      });
      await dynamo.close();
    },
  };
}

/**
 * The DNS-rebinding guard of every API route (the console has its own, the same): a page the developer
 * visits can point its own name at 127.0.0.1, but its requests then carry its name in `Host` and its origin
 * in `Origin`. Only this server's loopback names pass, so dev tokens, approvals and credentials stay with
 * the developer's own tools.
 */
function sameOriginLoopback(req: IncomingMessage, port: number): boolean {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
  if (!own.includes(req.headers.host ?? "")) return false;
  const origin = req.headers.origin;
  return origin === undefined || own.some((o) => origin === `http://${o}`);
}

function refuseForeign(res: ServerResponse): void {
  const body = JSON.stringify({
    error: "invalid_request",
    error_description: "credbroker dev answers only requests to its own loopback address (Host and Origin)",
  });
  res.writeHead(421, {
    "content-type": "application/json",
    "cache-control": "no-store",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
