// The token handler as the Lambda builds it (bundled config, the Lambda's grant store, the
// aws-sts provider), with one difference: a local ES256 signer instead of KMS, since no KMS is reachable
// here. The cold-start figure bundles this file exactly like lambdas/token.ts and times a fresh process.
import { createPrivateKey, type JsonWebKey } from "node:crypto";
import { jsonLogger } from "../lib/core/logger.ts";
import { createHandlers } from "../lib/http/handlers.ts";
import { createLocalSigner } from "../lib/local/local-signer.ts";
import { awsProviders } from "../lib/runtime/aws-providers.ts";
import { buildBrokerDeps } from "../lib/runtime/broker-deps.ts";
import { readLambdaEnv } from "../lib/runtime/lambda-env.ts";
import { lambdaStore, loadBundledConfig } from "../lib/runtime/lambda-runtime.ts";

const env = readLambdaEnv();
const resolved = loadBundledConfig(env.configBundlePath);
const store = lambdaStore(env, resolved);
const signingJwk = JSON.parse(process.env["BENCH_SIGNING_JWK"] ?? "{}") as JsonWebKey;
const signer = await createLocalSigner(createPrivateKey({ key: signingJwk, format: "jwk" }));
const log = jsonLogger((line) => process.stderr.write(line), { service: "credbroker" });

export const handler = createHandlers(
  await buildBrokerDeps(resolved, { store, signer, log, providers: awsProviders(resolved) }),
).token;
