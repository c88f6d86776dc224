#!/usr/bin/env node
// The packed package's `credbroker` command (built into dist/cli by build-package.ts): bin/credbroker.ts
// compiled ahead of time, so an installed copy runs on plain node — no tsx, so no compile cache and no
// writable temp dir, which a container with a read-only root does not have.
import { setFlagsFromString } from "node:v8";

// The same two settings bin/credbroker.js makes before loading the CLI, for the same reasons (see there).
if (Number(process.versions.node.split(".")[0]) <= 20) setFlagsFromString("--no-turbo-inlining");
process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

// Imported, not bundled inline: the settings above must apply before any of the CLI is compiled.
await import("../bin/credbroker.ts");
