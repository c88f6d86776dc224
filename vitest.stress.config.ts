// The long part of the suite (`npm run test:stress`, also run by .ci/run): load against `credbroker dev`
// (the CLI in its own process, so the broker runs with the flags its shim sets) and the secrets scan over
// everything it produced.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/stress/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: ".vitest-results-stress.json" }]],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
