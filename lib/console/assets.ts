// The console's browser code (lib/console/browser: uPlot charts, table sorting, the live audit) as one
// script and one stylesheet, bundled by esbuild. Two ways to get them, tried in this order:
//   1. build from source in memory (a checkout: esbuild and uPlot are devDependencies), so an edit to the
//      browser code shows at the next run without a build step;
//   2. read dist/console/, which `npm run build:client` (and so `prepare`, run by `npm ci` and `npm pack`)
//      writes: what an installed package, which has neither esbuild nor uPlot, uses.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { CliError } from "../cli/errors.ts";

export interface BrowserAssets {
  js: string;
  css: string;
}

// Two levels under the package root, as the built CLI's chunks in dist/cli are, so both resolve the same.
const ROOT = new URL("../../", import.meta.url);
const ENTRY = fileURLToPath(new URL("lib/console/browser/main.ts", ROOT));
const STYLES = fileURLToPath(new URL("lib/console/browser/styles.css", ROOT));
export const DIST_JS = fileURLToPath(new URL("dist/console/console.js", ROOT));
export const DIST_CSS = fileURLToPath(new URL("dist/console/console.css", ROOT));

type Esbuild = typeof import("esbuild");

/** Bundles the browser code with the given esbuild (build-package.ts passes its own). */
export async function buildBrowserAssets(esbuild: Esbuild): Promise<BrowserAssets> {
  const common = {
    bundle: true,
    minify: true,
    write: false,
    logLevel: "silent",
    legalComments: "none",
  } as const;
  const [js, css] = await Promise.all([
    esbuild.build({ ...common, entryPoints: [ENTRY], format: "iife", target: "es2020", platform: "browser" }),
    esbuild.build({ ...common, entryPoints: [STYLES], loader: { ".css": "css" } }),
  ]);
  return inlineSafe({ js: js.outputFiles[0]!.text, css: css.outputFiles[0]!.text });
}

/** Neither text may close the element it is inlined in; the CSP hashes are taken after this. */
function inlineSafe(a: BrowserAssets): BrowserAssets {
  return { js: a.js.replace(/<\/(script)/gi, "<\\/$1"), css: a.css.replace(/<\/(style)/gi, "<\\/$1") };
}

let cached: Promise<BrowserAssets> | undefined;

export function browserAssets(): Promise<BrowserAssets> {
  cached ??= load();
  return cached;
}

async function load(): Promise<BrowserAssets> {
  try {
    const esbuild = (await import("esbuild")) as Esbuild;
    return await buildBrowserAssets(esbuild);
  } catch {
    // No esbuild or no uPlot here (an installed package): the bundle built ahead of time.
  }
  try {
    const [js, css] = await Promise.all([readFile(DIST_JS, "utf8"), readFile(DIST_CSS, "utf8")]);
    return inlineSafe({ js, css });
  } catch {
    cached = undefined;
    throw new CliError(
      "the console's browser bundle is missing (dist/console): run `npm run build:client` in the checkout",
    );
  }
}
