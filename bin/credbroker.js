#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx credbroker` and `npm start` need no build step.
import { register } from "tsx/esm/api";

// The AWS SDK warns on every start under Node 20 about its 2027 plans; the CLI supports Node 20 today.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

register();
await import("./credbroker.ts");
