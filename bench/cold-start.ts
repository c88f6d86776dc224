// Figure 6: bundle sizes, and the time a fresh Node process takes to import the bundled token handler
// (config and policies loaded, Cedar compiled, deps built at module load as in Lambda) and answer its
// first POST /token for an aws-sts task. DynamoDB (dynalite), STS (the loopback fixture) and the demo
// config's dev issuer (discovery + JWKS) run in this process, already warm, as AWS would be.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import * as nodeModule from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureTable } from "../lib/aws/table-definition.ts";
import { loadConfigFileSync, toConfigBundle } from "../lib/config/load-sync.ts";
import { configVersion } from "../lib/config/resolve.ts";
import { createDevIssuer } from "../lib/local/dev-issuer.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { generateSigningKey } from "../lib/local/local-signer.ts";
import { LAMBDA_ENV } from "../lib/runtime/lambda-env.ts";
import { startAwsQueryServer } from "../test/fixtures/aws-query-server.ts";
import { type BundleResult, bundleLambda } from "./bundle.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { median, round } from "./stats.ts";

export interface ColdStartFigures {
  tokenBundleBytes: number;
  sweepBundleBytes: number;
  coldStartMs: number;
  /** The bundled JavaScript alone (the rest is cedar-wasm's .wasm file). */
  tokenBundleJsBytes: number;
  sweepBundleJsBytes: number;
  cedarWasmBytes: number;
  /** The token bundle with @aws-sdk/* and @smithy/* left to the Lambda runtime. */
  tokenBundleJsBytesSdkExternal: number;
  /** The largest contributors to the token bundle's JavaScript, by package. */
  tokenBundleTopPackages: { name: string; bytes: number }[];
  /** Inside the child: Node start to the driver's first line, the import (module load and deps), the request. */
  coldStartNodeBootMs: number;
  coldStartImportMs: number;
  coldStartFirstRequestMs: number;
  coldStartRuns: number;
  /**
   * CONTRACT §12: coldStartMs over the cold start of bench/cold-start-floor.ts (the same SDK clients, one
   * GetItem), bundled and started the same way, runs interleaved with the token function's.
   */
  coldStartOverheadRatio: number;
  coldStartFloorMs: number;
  /**
   * The same token function with a decision that costs nothing (bench/cold-start-no-cedar.ts in place of the
   * authorizer and cedar-wasm), started the same way in the same rounds: how far everything but Cedar alone
   * keeps the cold start from the floor, i.e. the least coldStartOverheadRatio can be without changing the
   * function's other work.
   */
  coldStartWithoutCedarMs: number;
  coldStartWithoutCedarOverheadRatio: number;
  /** The token handler with cedar-wasm's own glue (the wasm compiled synchronously at import), same rounds. */
  coldStartSyncCedarMs: number;
  coldStartSyncCedarOverheadRatio: number;
  tokenBundleJsBytesWithoutCedar: number;
  /**
   * Inside the import: loading and evaluating the bundle's modules up to the handler's own top-level code
   * (parse, compile, cedar-wasm's instantiation, every package's module body), then the handler's steps:
   * the bundled config (zod), SDK clients and signer, and the deps (authorizer, verifiers).
   */
  coldStartModuleLoadMs: number;
  coldStartConfigMs: number;
  coldStartClientsMs: number;
  coldStartDepsMs: number;
  coldStartFloorImportMs: number;
  coldStartFloorFirstRequestMs: number;
  floorBundleJsBytes: number;
  /**
   * The floor with this repository's logger and EMF writer, and with Powertools' Logger and Metrics, each
   * writing one log line and one metric: what each pair adds over the floor, to the cold start (ms, and as
   * a share of the floor: the change it would make to coldStartOverheadRatio) and to the bundle (bytes).
   */
  loggingOursColdStartAddedMs: number;
  loggingPowertoolsColdStartAddedMs: number;
  loggingPowertoolsOverheadRatioAdded: number;
  loggingOursBundleAddedBytes: number;
  loggingPowertoolsBundleAddedBytes: number;
  /**
   * The token function and the floor each started with a V8 compile cache (NODE_COMPILE_CACHE, Node ≥ 22.1)
   * that an earlier, uncounted start of the same bundle wrote: what a cache shipped with the bundle would
   * give. Null where the Node has no compile cache (Node 20).
   */
  coldStartCompileCacheMs: number | null;
  coldStartFloorCompileCacheMs: number | null;
  coldStartCompileCacheOverheadRatio: number | null;
  coldStartCompileCacheModuleLoadMs: number | null;
}

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "..");

// Runs in the fresh process: import the handler, answer one request, report the phases.
const DRIVER = `
const boot = performance.now();
const t0 = performance.now();
const { handler, phases } = await import(process.env.BENCH_HANDLER);
const t1 = performance.now();
const body = new URLSearchParams({
  grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
  subject_token: process.env.BENCH_SUBJECT_TOKEN,
  subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
  scope: "deploy-web",
}).toString();
const result = await handler({
  rawPath: "/token",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body,
  isBase64Encoded: false,
  requestContext: { requestId: "cold-1", http: { method: "POST", path: "/token", sourceIp: "127.0.0.1" } },
});
const t2 = performance.now();
process.stdout.write(JSON.stringify({ status: result.statusCode, error: result.statusCode === 200 ? undefined : result.body, bootMs: boot, importMs: t1 - t0, requestMs: t2 - t1, phases: phases && { ...phases, moduleStartMs: phases.moduleStartMs - t0 } }) + "\\n");
`;

export interface ColdStartOptions {
  runs?: number;
  /** Extra node flags for the child, e.g. ["--cpu-prof", "--cpu-prof-dir=DIR"] to see where the time goes. */
  nodeArgs?: string[];
}

export async function benchColdStart(
  outdir: string,
  options: ColdStartOptions = {},
): Promise<ColdStartFigures> {
  const runs = options.runs ?? 7;
  const token = await bundleLambda(join(root, "lambdas/token.ts"), join(outdir, "token"));
  const sweep = await bundleLambda(join(root, "lambdas/sweep.ts"), join(outdir, "sweep"));
  const external = await bundleLambda(join(root, "lambdas/token.ts"), join(outdir, "token-sdk-external"), {
    externalSdk: true,
  });
  const harness: BundleResult = await bundleLambda(join(here, "cold-start-handler.ts"), join(outdir, "cold"));
  const noCedar = join(here, "cold-start-no-cedar.ts");
  const harnessNoCedar = await bundleLambda(join(here, "cold-start-handler.ts"), join(outdir, "no-cedar"), {
    replace: [
      { filter: /\/policy\/authorizer\.ts$/, file: noCedar },
      { filter: /^@cedar-policy\/cedar-wasm/, file: noCedar },
    ],
  });
  // The same handler with cedar-wasm's synchronous compile at import, as before issue 26: the A/B of the
  // asynchronous compile, in the same interleaved rounds.
  const harnessSyncCedar = await bundleLambda(
    join(here, "cold-start-handler.ts"),
    join(outdir, "sync-cedar"),
    {
      syncCedar: true,
    },
  );
  const floor: BundleResult = await bundleLambda(join(here, "cold-start-floor.ts"), join(outdir, "floor"));
  const floorOurs = await bundleLambda(join(here, "cold-start-floor-ours.ts"), join(outdir, "floor-ours"));
  const floorPowertools = await bundleLambda(
    join(here, "cold-start-floor-powertools.ts"),
    join(outdir, "floor-powertools"),
  );
  const driver = join(outdir, "cold", "driver.mjs");
  await writeFile(driver, DRIVER);

  // The warm outside world: DynamoDB, STS and the demo config's issuer.
  const dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, "credbroker");
  const aws = await startAwsQueryServer();
  const issuerServer = createServer();
  await new Promise<void>((r) => issuerServer.listen(0, "127.0.0.1", () => r()));
  const issuerUrl = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}/dev/issuer`;
  const devIssuer = await createDevIssuer(issuerUrl, generateSigningKey());
  issuerServer.on("request", async (req, res) => {
    const body = req.url?.endsWith("/openid-configuration") ? devIssuer.discovery() : await devIssuer.jwks();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });

  // The demo config, as the construct ships it, trusting this run's dev issuer.
  const bundle = toConfigBundle(loadConfigFileSync(join(root, "examples/broker.config.yaml")));
  const config = bundle.config as { issuers: { issuer: string }[] };
  config.issuers[0]!.issuer = issuerUrl;
  // The version hashes the config: recompute it, or every cold start would see a changed config and
  // compile the policies afresh, which a deployed function never does.
  bundle.version = configVersion(
    bundle.config as Parameters<typeof configVersion>[0],
    bundle.policyFiles,
    "bench",
  );
  await writeFile(join(outdir, "cold", "credbroker.config.json"), JSON.stringify(bundle));

  const signingJwk = JSON.stringify(generateSigningKey().export({ format: "jwk" }));
  type Phases = { moduleStartMs: number; configMs: number; clientsMs: number; depsMs: number };
  type Sample = { wallMs: number; bootMs: number; importMs: number; requestMs: number; phases?: Phases };
  /** One fresh process: import `handlerFile`, answer one request, report the phases. */
  const coldRun = async (
    handlerFile: string,
    subjectToken: string,
    compileCache?: string,
  ): Promise<Sample> => {
    const started = performance.now();
    // CONTRACT §12 times process start to first response: the answer is the child's stdout line, so the
    // clock stops when that line arrives, not when the process has finished exiting (which, for the token
    // function, takes another 90–130 ms of tearing down sockets, wasm memory and the heap).
    let answeredMs: number | undefined;
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...(options.nodeArgs ?? []), driver], {
        cwd: join(outdir, "cold"),
        env: {
          PATH: process.env["PATH"] ?? "",
          ...(compileCache ? { NODE_COMPILE_CACHE: compileCache } : {}),
          ...aws.env(),
          AWS_REGION: "us-east-1",
          AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          LAMBDA_TASK_ROOT: join(outdir, "cold"),
          [LAMBDA_ENV.table]: "credbroker",
          BENCH_HANDLER: handlerFile,
          BENCH_SIGNING_JWK: signingJwk,
          BENCH_SUBJECT_TOKEN: subjectToken,
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => {
        stdout += d;
        if (answeredMs === undefined && stdout.includes("\n")) answeredMs = performance.now() - started;
      });
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("exit", (code) =>
        code === 0
          ? resolve(stdout)
          : reject(new Error(`cold-start child exited ${code}: ${stderr.slice(-2000)}`)),
      );
    });
    const wallMs = answeredMs ?? performance.now() - started;
    const line = JSON.parse(out.trim().split("\n").pop()!) as {
      status: number;
      error?: string;
      bootMs: number;
      importMs: number;
      requestMs: number;
      phases?: Phases;
    };
    if (line.status !== 200)
      throw new Error(`cold-start first request answered ${line.status}: ${line.error}`);
    return { wallMs, ...line };
  };
  const samples: Sample[] = [];
  const floorSamples: Sample[] = [];
  const oursSamples: Sample[] = [];
  const powertoolsSamples: Sample[] = [];
  const cachedSamples: Sample[] = [];
  const cachedFloorSamples: Sample[] = [];
  const noCedarSamples: Sample[] = [];
  const syncCedarSamples: Sample[] = [];
  // The bench's child runs on this process's Node (run.ts re-executes itself under --node).
  const hasCompileCache =
    typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === "function";
  try {
    for (let i = 0; i < runs + 1; i++) {
      const subjectToken = await devIssuer.mint({
        sub: "repo:acme/web:ref:refs/heads/main",
        claims: GITHUB_LIKE_CLAIMS,
        audience: "credbroker",
        nowMs: Date.now(),
      });
      // Interleaved, so that the machine's load falls on both alike. The first round also warms the OS file
      // cache; it is not counted.
      const token = await coldRun(harness.file, subjectToken);
      const bare = await coldRun(floor.file, subjectToken);
      const ours = await coldRun(floorOurs.file, subjectToken);
      const powertools = await coldRun(floorPowertools.file, subjectToken);
      const withoutCedar = await coldRun(harnessNoCedar.file, subjectToken);
      const syncCedar = await coldRun(harnessSyncCedar.file, subjectToken);
      // The first round writes each bundle's cache (at the child's exit); later rounds read it.
      if (hasCompileCache) {
        const cached = await coldRun(harness.file, subjectToken, join(outdir, "cc-token"));
        const cachedFloor = await coldRun(floor.file, subjectToken, join(outdir, "cc-floor"));
        if (i > 0) {
          cachedSamples.push(cached);
          cachedFloorSamples.push(cachedFloor);
        }
      }
      if (i > 0) {
        samples.push(token);
        floorSamples.push(bare);
        oursSamples.push(ours);
        powertoolsSamples.push(powertools);
        noCedarSamples.push(withoutCedar);
        syncCedarSamples.push(syncCedar);
      }
    }
  } finally {
    issuerServer.close();
    await aws.close();
    await dynamo.close();
  }

  const wasmBytes = token.totalBytes - token.jsBytes;
  /** The p50 of one field, NaN for a series not run (no compile cache on this Node). */
  const p50 = (list: Sample[], pick: (s: Sample) => number) =>
    list.length ? median(list.map(pick)) : Number.NaN;
  const wallP50 = (list: Sample[]) => p50(list, (s) => s.wallMs);
  const orNull = (n: number, digits: number) => (Number.isFinite(n) ? round(n, digits) : null);
  return {
    tokenBundleBytes: token.totalBytes,
    sweepBundleBytes: sweep.totalBytes,
    coldStartMs: round(median(samples.map((s) => s.wallMs)), 1),
    tokenBundleJsBytes: token.jsBytes,
    sweepBundleJsBytes: sweep.jsBytes,
    cedarWasmBytes: wasmBytes,
    tokenBundleJsBytesSdkExternal: external.jsBytes,
    tokenBundleTopPackages: token.byPackage.slice(0, 8),
    coldStartNodeBootMs: round(median(samples.map((s) => s.bootMs)), 1),
    coldStartImportMs: round(median(samples.map((s) => s.importMs)), 1),
    coldStartFirstRequestMs: round(median(samples.map((s) => s.requestMs)), 1),
    coldStartRuns: samples.length,
    coldStartOverheadRatio: round(
      median(samples.map((s) => s.wallMs)) / median(floorSamples.map((s) => s.wallMs)),
      3,
    ),
    coldStartFloorMs: round(median(floorSamples.map((s) => s.wallMs)), 1),
    coldStartWithoutCedarMs: round(wallP50(noCedarSamples), 1),
    coldStartWithoutCedarOverheadRatio: round(wallP50(noCedarSamples) / wallP50(floorSamples), 3),
    tokenBundleJsBytesWithoutCedar: harnessNoCedar.jsBytes,
    coldStartSyncCedarMs: round(wallP50(syncCedarSamples), 1),
    coldStartSyncCedarOverheadRatio: round(wallP50(syncCedarSamples) / wallP50(floorSamples), 3),
    floorBundleJsBytes: floor.jsBytes,
    loggingOursColdStartAddedMs: round(
      median(oursSamples.map((s) => s.wallMs)) - median(floorSamples.map((s) => s.wallMs)),
      1,
    ),
    loggingPowertoolsColdStartAddedMs: round(
      median(powertoolsSamples.map((s) => s.wallMs)) - median(floorSamples.map((s) => s.wallMs)),
      1,
    ),
    loggingPowertoolsOverheadRatioAdded: round(
      (median(powertoolsSamples.map((s) => s.wallMs)) - median(oursSamples.map((s) => s.wallMs))) /
        median(floorSamples.map((s) => s.wallMs)),
      3,
    ),
    loggingOursBundleAddedBytes: floorOurs.jsBytes - floor.jsBytes,
    loggingPowertoolsBundleAddedBytes: floorPowertools.jsBytes - floor.jsBytes,
    coldStartModuleLoadMs: round(median(samples.map((s) => s.phases?.moduleStartMs ?? Number.NaN)), 1),
    coldStartConfigMs: round(median(samples.map((s) => s.phases?.configMs ?? Number.NaN)), 1),
    coldStartClientsMs: round(median(samples.map((s) => s.phases?.clientsMs ?? Number.NaN)), 1),
    coldStartDepsMs: round(median(samples.map((s) => s.phases?.depsMs ?? Number.NaN)), 1),
    coldStartFloorImportMs: round(median(floorSamples.map((s) => s.importMs)), 1),
    coldStartFloorFirstRequestMs: round(median(floorSamples.map((s) => s.requestMs)), 1),
    coldStartCompileCacheMs: orNull(wallP50(cachedSamples), 1),
    coldStartFloorCompileCacheMs: orNull(wallP50(cachedFloorSamples), 1),
    coldStartCompileCacheOverheadRatio: orNull(wallP50(cachedSamples) / wallP50(cachedFloorSamples), 3),
    coldStartCompileCacheModuleLoadMs: orNull(
      p50(cachedSamples, (s) => s.phases?.moduleStartMs ?? Number.NaN),
      1,
    ),
  };
}
