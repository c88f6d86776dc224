// How the broker's Lambda functions are bundled, in one place for the construct and for `npm run bench`,
// which measures bundles built the same way. No CDK import: the bench loads this without aws-cdk-lib.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** The Lambda runtime is Node 24. */
export const LAMBDA_TARGET = "node24";

/** ESM bundles resolve packages' module entry first, as Node's ESM loader would. */
export const LAMBDA_MAIN_FIELDS = ["module", "main"];

/** cedar-wasm's Node build is CommonJS that reads its .wasm via require('fs') and __dirname. */
export const LAMBDA_BANNER = [
  "import{createRequire as __cbRequire}from'node:module';",
  "import{fileURLToPath as __cbPath}from'node:url';",
  "import{dirname as __cbDir}from'node:path';",
  "const require=__cbRequire(import.meta.url);",
  "const __filename=__cbPath(import.meta.url);",
  "const __dirname=__cbDir(__filename);",
].join("");

/** cedar-wasm's .wasm file, copied beside each bundle. */
export const CEDAR_WASM = join(
  dirname(createRequire(import.meta.url).resolve("@cedar-policy/cedar-wasm/nodejs")),
  "cedar_wasm_bg.wasm",
);

/** The module the Lambda bundles get in place of cedar-wasm's Node build (asyncCedarGlue). */
export const CEDAR_MODULE = "@cedar-policy/cedar-wasm/nodejs";

const SYNC_TAIL = `const wasmModule = new WebAssembly.Module(wasmBytes);
let wasm = new WebAssembly.Instance(wasmModule, __wbg_get_imports()).exports;
wasm.__wbindgen_start();`;

// The same glue, instantiated once WebAssembly.compile has finished on V8's background threads, so that a
// cold start goes on with its config, clients and key-set fetch meanwhile. `__credbrokerReady` resolves
// once the exports work; lib/runtime/cedar-ready.ts waits for it before the first decision.
const ASYNC_TAIL = `let wasm;
exports.__credbrokerReady = WebAssembly.compile(wasmBytes)
  .then((m) => WebAssembly.instantiate(m, __wbg_get_imports()))
  .then((instance) => {
    wasm = instance.exports;
    wasm.__wbindgen_start();
  });`;

/**
 * Writes cedar-wasm's Node glue with its synchronous `new WebAssembly.Module(bytes)` replaced by
 * `WebAssembly.compile`, into `dir`; returns the file's path. Throws when the package's glue no longer
 * ends as expected (a cedar-wasm upgrade), so a build never ships a loader that does not match it.
 */
export function asyncCedarGlue(dir: string): string {
  const source = readFileSync(createRequire(import.meta.url).resolve(CEDAR_MODULE), "utf8");
  if (source.split(SYNC_TAIL).length !== 2)
    throw new Error("cedar-wasm's Node glue changed: lib/constructs/lambda-bundling.ts must follow it");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "cedar-wasm-async.cjs");
  writeFileSync(file, source.replace(SYNC_TAIL, ASYNC_TAIL));
  return file;
}
