#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx credbroker` and `npm start` need no build step.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { register } from "tsx/esm/api";

// Node 20's V8 can abort in its deoptimizer ("unreachable code") when a busy `credbroker dev` serves many
// token requests at once (BENCHMARKS.md, docs/security.md); turning off TurboFan inlining avoided it in every
// run. Set before any of our code is hot, so it applies to everything compiled from here on.
if (Number(process.versions.node.split(".")[0]) <= 20) setFlagsFromString("--no-turbo-inlining");

// The AWS SDK warns on every start under Node 20 about its 2027 plans; the CLI supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

// tsx caches compiled files under the temp dir. In a container with a read-only root and no writable /tmp
// that cache cannot be created and every command would crash: compile in memory instead. Probed by creating
// a directory, since a permission check says nothing about a read-only mount and nothing at all for root.
try {
  rmSync(mkdtempSync(join(tmpdir(), "credbroker-")), { recursive: true, force: true });
} catch {
  process.env.TSX_DISABLE_CACHE = "1";
}

register();
await import("./credbroker.ts");
