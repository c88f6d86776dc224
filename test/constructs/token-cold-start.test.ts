// The token function's cold-start options, on a real synth: provisioned concurrency on an alias that the
// /token route invokes, and bundles whose Cedar glue compiles the wasm asynchronously.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import { deployConfig, writeConfig } from "./support.ts";

let outdir: string;
let stack: CredbrokerStack;
let template: Template;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "credbroker-cdk-pc-"));
  const app = new App({ outdir });
  stack = new CredbrokerStack(app, "Credbroker", {
    broker: { configPath: writeConfig(deployConfig()), tokenProvisionedConcurrency: 2 },
  });
  app.synth();
  template = Template.fromStack(stack);
}, 240_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("the token function's cold start", () => {
  it("keeps tokenProvisionedConcurrency instances ready on an alias, and /token invokes that alias", () => {
    const aliases = template.findResources("AWS::Lambda::Alias");
    expect(Object.values(aliases).map((a) => a["Properties"])).toEqual([
      expect.objectContaining({
        Name: "live",
        ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
      }),
    ]);
    const aliasId = Object.keys(aliases)[0]!;
    const integrations = Object.values(template.findResources("AWS::ApiGatewayV2::Integration")).map((i) =>
      JSON.stringify(i["Properties"]),
    );
    expect(integrations.filter((i) => i.includes(aliasId))).toHaveLength(1);
  });

  it("ships Cedar's glue that compiles the wasm with WebAssembly.compile, not new WebAssembly.Module", () => {
    const assets = readdirSync(outdir).filter((d) => d.startsWith("asset."));
    const bundles = assets
      .flatMap((d) => readdirSync(join(outdir, d)).map((f) => join(outdir, d, f)))
      .filter((f) => f.endsWith(".mjs"));
    expect(bundles.length).toBeGreaterThanOrEqual(6);
    for (const file of bundles) {
      const js = readFileSync(file, "utf8");
      if (!js.includes("wbindgen")) continue;
      expect(js).toContain("__credbrokerReady");
      expect(js).not.toContain("new WebAssembly.Module");
    }
  });

  it("refuses a provisioned concurrency that is not a whole number of instances", () => {
    expect(
      () =>
        new CredbrokerStack(new App(), "Bad", {
          broker: { configPath: writeConfig(deployConfig()), tokenProvisionedConcurrency: 0 },
        }),
    ).toThrow(/tokenProvisionedConcurrency/);
  });
});
