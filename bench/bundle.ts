// esbuild bundles of the Lambda entry points, built like the CDK construct builds them (ESM, minified,
// everything bundled, cedar-wasm's .wasm copied beside the bundle), with the metafile that says which
// package the bytes come from.
import { copyFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { build, type Metafile, type PluginBuild } from "esbuild";
import {
  asyncCedarGlue,
  CEDAR_MODULE,
  CEDAR_WASM,
  LAMBDA_BANNER,
  LAMBDA_MAIN_FIELDS,
  LAMBDA_TARGET,
} from "../lib/constructs/lambda-bundling.ts";

export interface BundleResult {
  file: string;
  /** The bundled JavaScript. */
  jsBytes: number;
  /** What ships: the JavaScript plus the Cedar .wasm beside it. */
  totalBytes: number;
  /** Bundled bytes by package (`ours` for this repository's code), largest first. */
  byPackage: { name: string; bytes: number }[];
}

export function packageOf(path: string): string {
  const at = path.lastIndexOf("node_modules/");
  if (at < 0) return "ours";
  const rest = path.slice(at + "node_modules/".length).split("/");
  return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
}

function byPackage(metafile: Metafile, outfile: string): { name: string; bytes: number }[] {
  const output = Object.entries(metafile.outputs).find(([name]) => name.endsWith(outfile))?.[1];
  const totals = new Map<string, number>();
  for (const [path, { bytesInOutput }] of Object.entries(output?.inputs ?? {}))
    totals.set(packageOf(path), (totals.get(packageOf(path)) ?? 0) + bytesInOutput);
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

export async function bundleLambda(
  entry: string,
  outdir: string,
  options: {
    externalSdk?: boolean;
    /** cedar-wasm's own glue (a synchronous compile at import) instead of the asynchronous one that ships. */
    syncCedar?: boolean;
    /** Modules bundled in place of others: each import whose path matches `filter` gets `file` instead. */
    replace?: { filter: RegExp; file: string }[];
  } = {},
): Promise<BundleResult> {
  const name = entry.split("/").pop()!.replace(/\.ts$/, ".mjs");
  const result = await build({
    entryPoints: [entry],
    outfile: join(outdir, name),
    bundle: true,
    platform: "node",
    format: "esm",
    target: LAMBDA_TARGET,
    minify: true,
    mainFields: LAMBDA_MAIN_FIELDS,
    banner: { js: LAMBDA_BANNER },
    external: options.externalSdk ? ["@aws-sdk/*", "@smithy/*"] : [],
    metafile: true,
    logLevel: "silent",
    plugins: [
      ...(options.replace ?? []).map(({ filter, file }) => ({
        name: `replace ${filter.source}`,
        setup(b: PluginBuild) {
          b.onResolve({ filter }, () => ({ path: file }));
        },
      })),
      // As the construct does (its esbuild alias): Cedar's glue that compiles the wasm asynchronously.
      // After the replacements, so that a bundle without Cedar stays without it.
      ...(options.syncCedar
        ? []
        : [
            {
              name: "cedar async glue",
              setup(b: PluginBuild) {
                const glue = asyncCedarGlue(join(outdir, ".cedar"));
                b.onResolve({ filter: new RegExp(`^${CEDAR_MODULE.replaceAll("/", "\\/")}$`) }, () => ({
                  path: glue,
                }));
              },
            },
          ]),
    ],
  });
  await copyFile(CEDAR_WASM, join(outdir, "cedar_wasm_bg.wasm"));
  const jsBytes = (await stat(join(outdir, name))).size;
  const wasmBytes = (await stat(CEDAR_WASM)).size;
  return {
    file: join(outdir, name),
    jsBytes,
    totalBytes: jsBytes + wasmBytes,
    byPackage: byPackage(result.metafile, name),
  };
}
