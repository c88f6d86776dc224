// The token handler as the Lambda builds it (bundled config, the Lambda's grant store, the
// aws-sts provider), with one difference: a local ES256 signer instead of KMS, since no KMS is reachable
// here. The cold-start figure bundles this file exactly like lambdas/token.ts and times a fresh process.
// `phases` says where the module's own top-level time went (the rest of the import is loading the bundle).
import { createPrivateKey, type JsonWebKey } from "node:crypto";
import { jsonLogger } from "../lib/core/logger.ts";
import { createHandlers } from "../lib/http/handlers.ts";
import { createLocalSigner } from "../lib/local/local-signer.ts";
import { awsProviders } from "../lib/runtime/aws-providers.ts";
import { buildBrokerDeps } from "../lib/runtime/broker-deps.ts";
import { cedarReady } from "../lib/runtime/cedar-ready.ts";
import { readLambdaEnv } from "../lib/runtime/lambda-env.ts";
import { lambdaStore, loadBundledConfig } from "../lib/runtime/lambda-runtime.ts";

const t0 = performance.now();
const env = readLambdaEnv();
const resolved = loadBundledConfig(env.configBundlePath);
const t1 = performance.now();
const store = lambdaStore(env, resolved);
const signingJwk = JSON.parse(process.env["BENCH_SIGNING_JWK"] ?? "{}") as JsonWebKey;
const signer = await createLocalSigner(createPrivateKey({ key: signingJwk, format: "jwk" }));
const log = jsonLogger((line) => process.stderr.write(line), { service: "credbroker" });
const providers = awsProviders(resolved);
const t2 = performance.now();
const deps = await buildBrokerDeps(resolved, { store, signer, log, providers });
// As lambdaHandler does during Lambda's init phase; the local signer has no KMS call to start.
void deps.verifier.warmUp?.();
const t3 = performance.now();

/** Milliseconds: the module's start, config load, clients and signer, deps (authorizer, verifier, warm-up). */
export const phases = { moduleStartMs: t0, configMs: t1 - t0, clientsMs: t2 - t1, depsMs: t3 - t2 };

const token = createHandlers(deps).token;
/** As lambdaHandler: the first request waits for Cedar's compile, which ran during the module's own work. */
export const handler: typeof token = async (event) => {
  await cedarReady();
  return token(event);
};
