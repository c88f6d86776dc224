// How the broker's Lambda functions are bundled, in one place for the construct and for `npm run bench`,
// which measures bundles built the same way. No CDK import: the bench loads this without aws-cdk-lib.
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
