// The Lambda bundles' Cedar glue (asyncCedarGlue): the package's own glue with the wasm compiled by
// WebAssembly.compile. It loads without compiling, and once ready it answers as the package does.
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import { describe, expect, it } from "vitest";
import { asyncCedarGlue, CEDAR_WASM } from "../../lib/constructs/lambda-bundling.ts";

type Glue = typeof cedar & { __credbrokerReady: Promise<void> };

describe("the asynchronous Cedar glue", () => {
  it("compiles with WebAssembly.compile and then decides as the package does", async () => {
    const dir = mkdtempSync(join(tmpdir(), "credbroker-glue-"));
    const file = asyncCedarGlue(dir);
    copyFileSync(CEDAR_WASM, join(dir, "cedar_wasm_bg.wasm"));
    const source = readFileSync(file, "utf8");
    expect(source).toContain("WebAssembly.compile(wasmBytes)");
    expect(source).not.toContain("new WebAssembly.Module");
    const glue = createRequire(import.meta.url)(file) as Glue;
    expect(glue.__credbrokerReady).toBeInstanceOf(Promise);
    await glue.__credbrokerReady;
    expect(glue.getCedarVersion()).toBe(cedar.getCedarVersion());
    const call = {
      principal: { type: "Workload", id: "web-ci" },
      action: { type: "Action", id: "issue" },
      resource: { type: "Task", id: "read-reports" },
      context: {},
      policies: { staticPolicies: `permit (principal == Workload::"web-ci", action, resource);` },
      entities: [],
    };
    expect(glue.isAuthorized(call)).toEqual(cedar.isAuthorized(call));
    expect(glue.isAuthorized(call)).toMatchObject({ type: "success", response: { decision: "allow" } });
  });
});
