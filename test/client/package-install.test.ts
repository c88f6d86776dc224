// The package as a workload gets it: `npm pack` on a copy of the sources (npm runs `prepare`, which builds
// dist/), the tarball unpacked into an app's node_modules/credbroker with nothing else installed, then plain
// `node` — no tsx, no vite — imports `credbroker` and runs its `credbroker` command against `credbroker dev`.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canCreateIn, cleanEnv, runCli, uncreatableTmp } from "./run-cli.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
const run = (file: string, args: string[], cwd: string, env = cleanEnv()): Promise<Run> =>
  new Promise((res) =>
    execFile(file, args, { cwd, env, timeout: 120_000 }, (err, stdout, stderr) =>
      res({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );

/** The child's environment: no AWS credentials, and no loader or flag a test runner may have set. */
function plainEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = cleanEnv(extra);
  delete env["NODE_OPTIONS"];
  return env;
}

const node24 = process.env["CREDBROKER_NODE24"];
const nodes: [string, string][] = [[`node ${process.version}`, process.execPath]];
if (node24 && existsSync(node24)) nodes.push(["node 24", node24]);

let broker: ClientTestBroker;
let work: string;
let app: string;
let installed: string;
let packed: { filename: string; files: { path: string }[] };
let manifest: { bin: Record<string, string>; exports: Record<string, unknown> };

beforeAll(async () => {
  broker = await startClientTestBroker();
  work = await mkdtemp(join(tmpdir(), "cb-package-"));
  // A copy, so packing builds from the sources alone and never touches this checkout's dist/.
  const src = join(work, "src");
  for (const entry of ["package.json", "README.md", "bin", "lib", "lambdas", "scripts", "examples", "schema"])
    await cp(entry, join(src, entry), { recursive: true });
  await symlink(resolve("node_modules"), join(src, "node_modules"), "dir");
  const pack = await run("npm", ["pack", "--json", "--pack-destination", work], src, plainEnv());
  expect(pack.code, pack.stderr).toBe(0);
  packed = (JSON.parse(pack.stdout) as (typeof packed)[])[0]!;

  app = join(work, "app");
  installed = join(app, "node_modules", "credbroker");
  await mkdir(installed, { recursive: true });
  const untar = await run(
    "tar",
    ["-xzf", join(work, packed.filename), "-C", installed, "--strip-components=1"],
    work,
  );
  expect(untar.code, untar.stderr).toBe(0);
  manifest = JSON.parse(await readFile(join(installed, "package.json"), "utf8"));
}, 240_000);
afterAll(async () => {
  await broker?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

describe("the packed credbroker package", () => {
  it("holds the built client and command, and none of the checkout's tests or build scripts", () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "dist/client/index.js",
        "dist/client/index.d.ts",
        // The console's browser bundle: an installed copy has neither esbuild nor uPlot to build it.
        "dist/console/console.js",
        "dist/console/console.css",
        manifest.bin["credbroker"]!.replace(/^\.\//, ""),
        "examples/broker.config.yaml",
      ]),
    );
    expect(paths.filter((p) => /^(test|scripts|bench|bin)\//.test(p))).toEqual([]);
  });

  // Node 24 refuses TypeScript under node_modules outright (ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING), so
  // it is run too when .ci/run provides it.
  it.each(nodes)(
    "imports under plain %s with nothing else installed, and its provider gets the broker's credentials",
    async (_name, node) => {
      const script = `
      import * as client from "credbroker";
      import { fromCredentialBroker } from "credbroker/client";
      const credentials = await fromCredentialBroker({
        url: process.env.BROKER_URL, task: "deploy-web", token: process.env.ID_TOKEN,
      })();
      console.log(JSON.stringify({
        exports: Object.keys(client).sort(),
        sameModule: client.fromCredentialBroker === fromCredentialBroker,
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      }));`;
      const env = plainEnv({ BROKER_URL: broker.dev.url, ID_TOKEN: await broker.mint() });
      const out = await run(node, ["--input-type=module", "-e", script], app, env);
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const source = await import("../../lib/client/index.ts");
      const issued = broker.aws.issued.at(-1)!;
      expect(JSON.parse(out.stdout)).toEqual({
        exports: Object.keys(source).sort(),
        sameModule: true,
        accessKeyId: issued.AccessKeyId,
        secretAccessKey: issued.SecretAccessKey,
        sessionToken: issued.SessionToken,
      });
    },
  );

  it("runs its credbroker command: the usage, and credential-process as the pod runs it", async () => {
    const bin = join(installed, manifest.bin["credbroker"]!);
    const help = await runCli(["--help"], plainEnv(), { entry: bin });
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toContain("credential-process --url URL --task TASK");

    // No writable temp dir, like examples/kubernetes without its /tmp volume: the compiled command needs none.
    const tokenFile = join(app, "token");
    await writeFile(tokenFile, await broker.mint());
    const readOnlyTmp = await uncreatableTmp(app);
    expect(await canCreateIn(readOnlyTmp)).toBe(false);
    const cp = await runCli(
      ["credential-process", "--url", broker.dev.url, "--task", "deploy-web", "--token-file", tokenFile],
      plainEnv({ TMPDIR: readOnlyTmp }),
      { entry: bin },
    );
    expect(cp.stderr).toBe("");
    expect(cp.code).toBe(0);
    const { RoleSessionName: _, ...issued } = broker.aws.issued.at(-1)!;
    expect(JSON.parse(cp.stdout)).toEqual({ Version: 1, ...issued });
  });

  it("gives a TypeScript consumer typings it compiles against", async () => {
    await mkdir(join(app, "node_modules", "@types"), { recursive: true });
    await symlink(resolve("node_modules/@types/node"), join(app, "node_modules", "@types", "node"), "dir");
    await writeFile(
      join(app, "consumer.mts"),
      `import { type AwsSessionCredentials, BrokerRequestError, fromCredentialBroker } from "credbroker";
import { BrokerClient } from "credbroker/client";

const provider = fromCredentialBroker({ url: "https://broker.example.com", task: "deploy-web", tokenFile: "/t" });
export const credentials: Promise<{ accessKeyId: string; sessionToken?: string }> = provider();
export const keyId: AwsSessionCredentials["AccessKeyId"] = "ASIA";
export const denied: boolean = new BrokerRequestError(403, "access_denied").denied;
export const client = new BrokerClient({ url: "https://broker.example.com" });
// @ts-expect-error the typings are real, not \`any\`: a task is a string
fromCredentialBroker({ url: "https://broker.example.com", task: 42, tokenFile: "/t" });
`,
    );
    const tsc = resolve("node_modules/typescript/bin/tsc");
    const flags = ["--ignoreConfig", "--noEmit", "--strict", "--module", "nodenext", "--target", "es2022"];
    const out = await run(process.execPath, [tsc, ...flags, "--types", "node", "consumer.mts"], app);
    expect(out.stdout + out.stderr).toBe("");
    expect(out.code).toBe(0);
  });
});
