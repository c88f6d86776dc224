// The clients with a github task on `credbroker dev` (the demo config pointed at the GitHub stand-in):
// `exchange --format env` gives git and gh their variables; `credential-process` says why it cannot help.
import { execFile } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialProcessCommand } from "../../lib/cli/credential-process.ts";
import { exchangeCommand } from "../../lib/cli/exchange.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { type ClientTestBroker, startClientTestBroker } from "../client/support.ts";

let broker: ClientTestBroker;
beforeAll(async () => {
  broker = await startClientTestBroker({ github: true });
});
afterAll(() => broker?.close());

const io = (out: string[], env: NodeJS.ProcessEnv): CliIo => ({
  out: (t) => out.push(t),
  err: () => {},
  env,
});

describe("clients of a github task", () => {
  it("exchange --format env exports GITHUB_TOKEN and GH_TOKEN, a working installation token", async () => {
    const out: string[] = [];
    await exchangeCommand(
      ["--url", broker.dev.url, "--task", "push-web-docs", "--token-env", "ID", "--format", "env"],
      io(out, { ID: await broker.mint() }),
    );
    const shell = await new Promise<string>((res, rej) =>
      execFile(
        "bash",
        ["-c", `eval "$1"; echo "$GITHUB_TOKEN|$GH_TOKEN|$CREDBROKER_GRANT_ID"`, "_", out.join("")],
        (err, stdout) => (err ? rej(err) : res(stdout.trim())),
      ),
    );
    const [github, gh, grantId] = shell.split("|");
    expect(github).toMatch(/^ghs_/);
    expect(gh).toBe(github);
    expect(await broker.github!.tokenWorks(github!)).toBe(true);
    expect(await broker.dev.deps.store.getGrant(grantId!)).toMatchObject({
      provider: "github",
      status: "active",
    });
  });

  it("credential-process refuses a github task, naming what to use instead, and nothing is issued", async () => {
    const tokens = broker.github!.tokens.size;
    await expect(
      credentialProcessCommand(
        ["--url", broker.dev.url, "--task", "push-web-docs", "--token-env", "ID"],
        io([], { ID: await broker.mint() }),
      ),
    ).rejects.toThrow(/task push-web-docs does not issue AWS credentials.*GITHUB_TOKEN/);
    expect(broker.github!.tokens.size).toBe(tokens);
  });
});
