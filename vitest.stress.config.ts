// The long part of the suite (`npm run test:stress`, also run by .ci/run): load against `credbroker dev`
// and the secrets scan over everything it produced.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/stress/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Node 20.20's V8 aborted ("Fatal error … unreachable code" in Deoptimizer::DoComputeBuiltinContinuation)
    // in two of three 2,000-request runs; without the optimizing compiler the run is stable (and faster).
    execArgv: ["--no-opt"],
    reporters: ["default", ["json", { outputFile: ".vitest-results-stress.json" }]],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
