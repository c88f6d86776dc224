// Builds the broker once per Lambda process: config and policies from the bundled JSON, DynamoDB, the KMS
// signer and the AWS providers. Two assemblies, so that each function's role needs only what it uses: the
// request functions get a KMS signer (Sign for /token, GetPublicKey for the others); the sweep gets no
// signer at all and so needs no KMS permission.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { DynamoGrantStore } from "../aws/dynamodb-store.ts";
import { createKmsSigner } from "../aws/kms-signer.ts";
import { kmsTokenVault } from "../aws/kms-token-vault.ts";
import type { ResolvedConfig } from "../config/resolve.ts";
import { resolveShipped } from "../config/shipped.ts";
import type { BrokerDeps } from "../core/deps.ts";
import { DependencyUnavailable } from "../core/errors.ts";
import type { SubjectTokenVerifier } from "../core/identity/verifier.ts";
import { jsonLogger } from "../core/logger.ts";
import type { ReevaluateDeps } from "../core/reevaluate.ts";
import type { HttpEvent } from "../http/apigw.ts";
import {
  approvalsHandler,
  type BrokerHandlers,
  createHandlers,
  errorResult,
  type Handler,
} from "../http/handlers.ts";
import { awsProviders } from "./aws-providers.ts";
import { addApproverDeps, addTokenDeps, buildDecidingDeps, subjectVerifierFor } from "./broker-deps.ts";
import { cedarReady } from "./cedar-ready.ts";
import { githubProvider, sealOnlyVault } from "./github-provider.ts";
import { type LambdaEnv, readLambdaEnv, requireSigningKey } from "./lambda-env.ts";
import { postgresProviders } from "./postgres-providers.ts";
import { secretProvider } from "./secret-provider.ts";

/** The sweep's dependencies: everything the broker has except what signs or verifies tokens. */
export type SweepRuntimeDeps = Omit<BrokerDeps, "signer" | "accessTokens" | "verifier">;

export function loadBundledConfig(path: string): ResolvedConfig {
  const root = process.env["LAMBDA_TASK_ROOT"] ?? process.cwd();
  // Checked by its version, not validated again (lib/config/shipped.ts): no zod schema at cold start.
  return resolveShipped(JSON.parse(readFileSync(isAbsolute(path) ? path : join(root, path), "utf8")), path);
}

const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });

/** The grant store as every function builds it: the table from the environment, the config's retention. */
export function lambdaStore(env: LambdaEnv, resolved: ResolvedConfig): DynamoGrantStore {
  return new DynamoGrantStore({
    // A stalled DynamoDB must become a 503 well inside API Gateway's 30 s, not a hung invocation.
    client: new DynamoDBClient({
      requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
    }),
    tableName: env.tableName,
    dueShards: env.dueShards,
    grantRetentionDays: resolved.config.grantRetentionDays,
    auditRetentionDays: resolved.config.auditRetentionDays,
    // Marks a day whose summary an audit write came too late for (docs/governance.md).
    clock: Date.now,
  });
}

interface Prepared {
  env: LambdaEnv;
  resolved: ResolvedConfig;
  deciding: ReevaluateDeps;
  /** Built before the signer so that a cold start can fetch the issuers' keys while KMS answers. */
  subjectVerifier: SubjectTokenVerifier;
}

let prepared: Prepared | undefined;

// A stalled KMS must become a 503, not a hung request.
const KMS_HANDLER = { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true };

/** Everything that needs no network: environment, bundled config, Cedar policies, clients. */
function prepare(): Prepared {
  if (prepared) return prepared;
  const env = readLambdaEnv();
  const resolved = loadBundledConfig(env.configBundlePath);
  const store = lambdaStore(env, resolved);
  // GitHub tokens are sealed with the token key; whether this function may decrypt is the key policy's say.
  const vault = env.tokenKeyArn
    ? kmsTokenVault(new KMSClient({ requestHandler: KMS_HANDLER }), env.tokenKeyArn)
    : sealOnlyVault("no token key configured");
  const github = githubProvider(resolved, {
    store,
    log,
    vault,
    configDir: process.env["LAMBDA_TASK_ROOT"] ?? ".",
  });
  const deciding = buildDecidingDeps(resolved, {
    store,
    log,
    providers: {
      ...awsProviders(resolved),
      // Lambda sets AWS_REGION: a database whose `regions` leave this region out is not reached here.
      ...postgresProviders(resolved, { log, region: process.env["AWS_REGION"] }),
      github,
      secret: secretProvider({ store, log }),
    },
  });
  prepared = { env, resolved, deciding, subjectVerifier: subjectVerifierFor(resolved, deciding) };
  return prepared;
}

let pending: Promise<BrokerHandlers> | undefined;
/** The warm-up's build of the handlers, which the first request waits out before trying its own. */
let warmingHandlers: Promise<BrokerHandlers> | undefined;

/** Built once per process on the first request; a failed build is forgotten so that the next one retries. */
function brokerHandlers(): Promise<BrokerHandlers> {
  pending ??= (async () => {
    // Cedar's compile runs on V8's background threads meanwhile (lib/runtime/cedar-ready.ts).
    await cedarReady();
    const { env, resolved, deciding, subjectVerifier } = prepare();
    // Same reasoning as DynamoDB: a stalled KMS must become a 503, not a hung /token.
    const kms = new KMSClient({ requestHandler: KMS_HANDLER });
    const signer = await createKmsSigner(kms, requireSigningKey(env));
    return createHandlers(await addTokenDeps(resolved, deciding, { signer, subjectVerifier }));
  })().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

/**
 * A request function's handler (/token, /introspect, /revoke, the metadata routes). The config and policies
 * are parsed while the module loads and the warm-up starts KMS and the issuers' key sets, but nothing the
 * load does waits for them or can fail it: a module that fails to load is a Lambda init error, which API
 * Gateway answers with a 500, and the contract allows no 5xx but 503.
 */
export function lambdaHandler(route: (handlers: BrokerHandlers, event: HttpEvent) => Handler): Handler {
  try {
    const { subjectVerifier } = prepare();
    // Lambda's init phase: start the network calls the first request would wait for (the signer's public key
    // from KMS, each issuer's discovery document and key set), to be answered while the module finishes
    // loading and the runtime asks for its first event. Nothing here waits for them or can fail the load: a
    // failed call is forgotten and made again by the first request, which answers for it. (Giving Cedar a
    // first parse and decision here too was measured and dropped: BENCHMARKS.md §6.)
    warmingHandlers = brokerHandlers();
    warmingHandlers.catch(() => undefined);
    void subjectVerifier.warmUp?.();
  } catch {
    // A deployment bug (a missing variable, a damaged bundle): every request retries it, answers 503 and
    // logs the error's name.
  }
  return async (event) => {
    let handlers: BrokerHandlers;
    try {
      // A warm-up's KMS call may have been cut short by a sandbox frozen after init: once it has settled, a
      // failed one is forgotten and this request makes its own attempt, answering 503 only for that.
      await warmingHandlers?.catch(() => undefined);
      warmingHandlers = undefined;
      handlers = await brokerHandlers();
    } catch (err) {
      // The name only: an SDK or config message may quote a key ARN, a path or a config value.
      log.error("broker unavailable", {
        requestId: event.requestContext.requestId,
        error: (err as Error)?.name ?? "unknown",
      });
      return errorResult(new DependencyUnavailable("broker start-up"), event.requestContext.requestId);
    }
    return route(handlers, event)(event);
  };
}

/** For the scheduled sweep: no signer, so no KMS client and no KMS permission. */
export const lambdaSweepDeps = (): SweepRuntimeDeps => prepare().deciding;

/**
 * GET/POST /approvals (CONTRACT §10): approver tokens, Cedar and the table. It signs nothing, so it needs
 * no KMS client and no KMS permission.
 */
export function lambdaApprovalsHandler(): Handler {
  try {
    prepare();
  } catch {
    // As for the other request functions: every request retries it and answers 503.
  }
  let handler: Handler | undefined;
  return async (event) => {
    try {
      await cedarReady();
      const { resolved, deciding } = prepare();
      handler ??= approvalsHandler(addApproverDeps(resolved, deciding));
    } catch (err) {
      log.error("broker unavailable", {
        requestId: event.requestContext.requestId,
        error: (err as Error)?.name ?? "unknown",
      });
      return errorResult(new DependencyUnavailable("broker start-up"), event.requestContext.requestId);
    }
    return handler(event);
  };
}
