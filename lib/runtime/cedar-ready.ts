// Cedar's WebAssembly is compiled asynchronously in the Lambda bundles (asyncCedarGlue in
// lib/constructs/lambda-bundling.ts): the module loads at once and the compile finishes on V8's background
// threads while the init phase goes on. A request waits for it here before anything decides. Elsewhere
// (tests, the CLI, `credbroker dev`) the package's own glue compiles synchronously and this resolves at once.
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";

export function cedarReady(): Promise<void> {
  return (cedar as { __credbrokerReady?: Promise<void> }).__credbrokerReady ?? Promise.resolve();
}
