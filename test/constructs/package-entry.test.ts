// The package's CDK entry: what `import … from "credbroker/constructs"` gives a user's CDK app, that the
// imports docs/deploy.md shows resolve by package name, and that a CDK app with credbroker installed as a
// package (no repository lock file beside it) synthesizes the broker with its bundles.
import { execFile } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as constructs from "credbroker/constructs";
import { afterAll, describe, expect, it } from "vitest";
import { DEPLOY_ROLE, deployConfig, writeConfig } from "./support.ts";

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, "../..");
const scratch: string[] = [];

afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("the credbroker/constructs package entry", () => {
  it("exports the constructs and nothing of the broker's internals", () => {
    expect(Object.keys(constructs).sort()).toEqual([
      "BrokerInventoryRole",
      "BrokerMemberRoles",
      "BrokerTargetRole",
      "CredentialBroker",
    ]);
  });

  it("builds a broker and a task role in a user's stack", () => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    const stack = new Stack(app, "UserStack");
    const props: constructs.CredentialBrokerProps = { configPath: writeConfig(deployConfig()) };
    const broker = new constructs.CredentialBroker(stack, "Broker", props);
    const roleProps: constructs.BrokerTargetRoleProps = {
      roleName: "web-deployer",
      brokerTokenRoleArn: broker.functions.token.role!.roleArn,
      revokerRoleArns: [broker.functions.sweep.role!.roleArn, broker.functions.revoke.role!.roleArn],
    };
    new constructs.BrokerTargetRole(stack, "WebDeployer", roleProps);
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::Lambda::Function", 6);
    template.hasResourceProperties("AWS::IAM::Role", { RoleName: "web-deployer" });
  }, 120_000);

  it("resolves every import docs/deploy.md shows, with the names it imports", async () => {
    const doc = readFileSync(join(repo, "docs/deploy.md"), "utf8");
    const imports = [...doc.matchAll(/^import \{([^}]+)\} from "(credbroker[^"]*)";$/gm)].map((m) => ({
      names: m[1]!.split(",").map((n) => n.trim()),
      specifier: m[2]!,
    }));
    expect(imports.map((i) => i.specifier)).toContain("credbroker/constructs");
    for (const { names, specifier } of imports) {
      const mod = (await import(specifier)) as Record<string, unknown>;
      for (const name of names) expect(typeof mod[name], `${specifier} exports ${name}`).toBe("function");
    }
  });

  it("synthesizes with its bundles in a CDK app that installed credbroker as a package", async () => {
    // The app outside the repository: credbroker copied into its node_modules as npm would install it (no
    // package-lock.json), the other packages linked from this checkout's node_modules.
    const appDir = mkdtempSync(join(tmpdir(), "credbroker-user-app-"));
    scratch.push(appDir);
    const modules = join(appDir, "node_modules");
    mkdirSync(modules);
    for (const entry of readdirSync(join(repo, "node_modules")))
      if (entry !== "credbroker") symlinkSync(join(repo, "node_modules", entry), join(modules, entry));
    const installed = join(modules, "credbroker");
    for (const part of ["package.json", "dist", "lib", "lambdas"])
      cpSync(join(repo, part), join(installed, part), { recursive: true });
    expect(existsSync(join(installed, "package-lock.json"))).toBe(false);
    writeFileSync(
      join(appDir, "package.json"),
      JSON.stringify({ name: "user-app", type: "module", dependencies: { credbroker: "*" } }),
    );
    writeFileSync(
      join(appDir, "package-lock.json"),
      JSON.stringify({ name: "user-app", lockfileVersion: 3, requires: true, packages: {} }),
    );
    writeFileSync(
      join(appDir, "app.ts"),
      [
        'import { App, Stack } from "aws-cdk-lib";',
        'import { BrokerTargetRole, CredentialBroker } from "credbroker/constructs";',
        "const app = new App({ outdir: process.env.OUTDIR });",
        'const stack = new Stack(app, "UserApp");',
        'const broker = new CredentialBroker(stack, "Broker", { configPath: process.env.CONFIG! });',
        'new BrokerTargetRole(stack, "WebDeployer", {',
        '  roleName: "web-deployer",',
        "  brokerTokenRoleArn: broker.functions.token.role!.roleArn,",
        "  revokerRoleArns: [broker.functions.sweep.role!.roleArn],",
        "});",
        "app.synth();",
      ].join("\n"),
    );
    const outdir = join(appDir, "cdk.out");
    await run(process.execPath, ["--import", "tsx", "app.ts"], {
      cwd: appDir,
      env: {
        PATH: process.env["PATH"] ?? "",
        OUTDIR: outdir,
        CONFIG: writeConfig(
          deployConfig({ tasks: [{ name: "deploy-web", provider: "aws-sts", roleArn: DEPLOY_ROLE }] }),
        ),
      },
    });
    const template = JSON.parse(readFileSync(join(outdir, "UserApp.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string; Properties: { Code?: { S3Key: string } } }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === "AWS::Lambda::Function");
    expect(functions).toHaveLength(6);
    for (const fn of functions) {
      const asset = join(outdir, `asset.${fn.Properties.Code!.S3Key.replace(/\.zip$/, "")}`);
      expect(readdirSync(asset).sort()).toEqual([
        "cedar_wasm_bg.wasm",
        "credbroker.config.json",
        "index.mjs",
      ]);
    }
  }, 240_000);

  it("synthesizes a stack with CredentialBroker from a plain .mjs CDK app, through the package's exports", async () => {
    // JavaScript only: the installed package without its TypeScript sources (lib/), and the app run by
    // plain node, so nothing can fall back to a .ts file. The functions' bundling is skipped (the test above
    // covers it); what is checked is that the import resolves and the stack synthesizes.
    const appDir = mkdtempSync(join(tmpdir(), "credbroker-mjs-app-"));
    scratch.push(appDir);
    const modules = join(appDir, "node_modules");
    mkdirSync(modules);
    for (const entry of readdirSync(join(repo, "node_modules")))
      if (entry !== "credbroker") symlinkSync(join(repo, "node_modules", entry), join(modules, entry));
    const installed = join(modules, "credbroker");
    for (const part of ["package.json", "dist", "lambdas"])
      cpSync(join(repo, part), join(installed, part), { recursive: true });
    writeFileSync(
      join(appDir, "package.json"),
      JSON.stringify({ name: "user-js-app", dependencies: { credbroker: "*" } }),
    );
    writeFileSync(
      join(appDir, "package-lock.json"),
      JSON.stringify({ name: "user-js-app", lockfileVersion: 3, requires: true, packages: {} }),
    );
    writeFileSync(
      join(appDir, "app.mjs"),
      [
        'import { App, Stack } from "aws-cdk-lib";',
        'import { CredentialBroker } from "credbroker/constructs";',
        "const app = new App({",
        "  outdir: process.env.OUTDIR,",
        '  context: { "aws:cdk:bundling-stacks": [] },',
        "});",
        'const stack = new Stack(app, "JsApp");',
        'new CredentialBroker(stack, "Broker", { configPath: process.env.CONFIG });',
        "app.synth();",
      ].join("\n"),
    );
    const outdir = join(appDir, "cdk.out");
    await run(process.execPath, ["app.mjs"], {
      cwd: appDir,
      env: {
        PATH: process.env["PATH"] ?? "",
        OUTDIR: outdir,
        CONFIG: writeConfig(deployConfig()),
      },
    });
    const template = JSON.parse(readFileSync(join(outdir, "JsApp.template.json"), "utf8")) as {
      Resources: Record<string, { Type: string }>;
    };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types.filter((t) => t === "AWS::Lambda::Function")).toHaveLength(6);
    expect(types).toContain("AWS::DynamoDB::Table");
    expect(types).toContain("AWS::KMS::Key");
  }, 120_000);
});
