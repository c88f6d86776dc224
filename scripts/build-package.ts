// Builds what the packed package runs (`npm run build:client`, and `prepare`, which npm runs for `npm pack`
// and for a git-URL install): Node refuses to strip types under node_modules, so consumers get JavaScript.
//   dist/client/index.js  the client API (lib/client) as one ESM file with no dependencies, plus its .d.ts
//   dist/cli/             the `credbroker` command (scripts/cli-entry.ts); npm dependencies stay imports
//   dist/console/         the console's browser bundle (uPlot, sorting, live audit: lib/console/assets.ts),
//                         since an installed package has neither esbuild nor uPlot to build it at run time
//   dist/constructs/      the CDK constructs (lib/constructs) as one ESM file, npm dependencies (aws-cdk-lib,
//                         constructs, zod, …) left as imports, so a CDK app in JavaScript can import them;
//                         their .d.ts under dist/types/ (the lib/ files they reach, with their paths)
// dist/ is git-ignored: it is built from a checked-out commit, never committed.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { type BuildOptions, build } from "esbuild";
import { buildBrowserAssets, DIST_CSS, DIST_JS } from "../lib/console/assets.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const node: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
};

await rm(dist, { recursive: true, force: true });

await build({ ...node, entryPoints: ["lib/client/index.ts"], outfile: join(dist, "client", "index.js") });
await emitDeclarations("lib/client/index.ts", join(dist, "client"));

// Code splitting keeps each command's imports deferred as in bin/credbroker.ts, so `credential-process`
// still loads no Cedar, SDK or CDK. Chunks sit beside the entry, two levels under the package root as
// lib/cli is, so `new URL("../../examples/…", import.meta.url)` still finds the demo config.
await build({
  ...node,
  entryPoints: { credbroker: "scripts/cli-entry.ts" },
  outdir: join(dist, "cli"),
  splitting: true,
  packages: "external",
});

// Two levels under the package root, as lib/constructs is: the construct finds lambdas/ (the functions'
// entries, bundled at synth) and, in a checkout, the lock file from there.
await build({
  ...node,
  entryPoints: ["lib/constructs/index.ts"],
  outfile: join(dist, "constructs", "index.js"),
  packages: "external",
});
await emitDeclarations("lib/constructs/index.ts", join(dist, "types"), "lib");

const assets = await buildBrowserAssets(esbuild);
await mkdir(dirname(DIST_JS), { recursive: true });
await writeFile(DIST_JS, assets.js);
await writeFile(DIST_CSS, assets.css);

/**
 * tsc's declarations for the entry and what it imports (under `rootDir`, with their paths below it);
 * relative `.ts` specifiers become `.js`, which every consumer resolves.
 */
async function emitDeclarations(entry: string, outDir: string, rootDir?: string): Promise<void> {
  const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin", "tsc");
  execFileSync(
    process.execPath,
    [
      tsc,
      "--ignoreConfig",
      "--declaration",
      "--emitDeclarationOnly",
      "--allowImportingTsExtensions",
      "--verbatimModuleSyntax",
      "--strict",
      "--skipLibCheck",
      "--target",
      "ES2022",
      "--module",
      "NodeNext",
      "--moduleResolution",
      "NodeNext",
      "--lib",
      "ES2023",
      "--types",
      "node",
      "--outDir",
      outDir,
      ...(rootDir ? ["--rootDir", rootDir] : []),
      entry,
    ],
    { cwd: root, stdio: ["ignore", process.stderr, process.stderr] },
  );
  for (const name of await readdir(outDir, { recursive: true })) {
    if (!name.endsWith(".d.ts")) continue;
    const path = join(outDir, name);
    const text = await readFile(path, "utf8");
    await writeFile(path, text.replace(/(["'])(\.\.?\/[^"']+)\.ts\1/g, "$1$2.js$1"));
  }
}
