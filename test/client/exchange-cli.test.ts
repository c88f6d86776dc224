// `credbroker exchange` against `credbroker dev`: JSON and `--format env` output, each token source.
import { execFile } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envLines, exchangeCommand } from "../../lib/cli/exchange.ts";
import type { CliIo } from "../../lib/cli/io.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

// Not the contract's fallback "credbroker": a client that skipped the broker's metadata would ask for the
// wrong audience and have its token refused.
const AUDIENCE = "https://credbroker.acme.example";

let broker: ClientTestBroker;
beforeAll(async () => {
  broker = await startClientTestBroker({ audience: AUDIENCE });
});
afterAll(() => broker?.close());

async function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const out: string[] = [];
  const io: CliIo = { out: (t) => out.push(t), err: () => {}, env };
  await exchangeCommand(args, io);
  return out.join("");
}

const bash = (script: string) =>
  new Promise<string>((res, rej) =>
    execFile("bash", ["-c", script], { env: { PATH: process.env["PATH"] } }, (err, stdout) =>
      err ? rej(err) : res(stdout),
    ),
  );

describe("credbroker exchange", () => {
  it("prints the token-exchange response as JSON for a jwt task", async () => {
    const out = await run(["--url", broker.dev.url, "--task", "read-reports", "--token-env", "ID_TOKEN"], {
      ID_TOKEN: await broker.mint(),
    });
    const body = JSON.parse(out) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: "Bearer",
      scope: "read-reports",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
    expect((await broker.dev.deps.store.getGrant(body["grant_id"] as string))?.status).toBe("active");
  });

  it("prints export lines a shell can eval for AWS credentials", async () => {
    const out = await run(
      [
        "--url",
        broker.dev.url,
        "--task",
        "deploy-web",
        "--token-env",
        "ID_TOKEN",
        "--format",
        "env",
        "--duration",
        "900",
        "--purpose",
        "it's a deploy",
      ],
      { ID_TOKEN: await broker.mint() },
    );
    const grantId = broker.aws.callsTo("AssumeRole").at(-1)!.params["RoleSessionName"]!.slice(3);
    const grant = (await broker.dev.deps.store.getGrant(grantId))!;
    expect(grant.purpose).toBe("it's a deploy");
    const shell = await bash(
      `${out}\necho "$AWS_ACCESS_KEY_ID|$CREDBROKER_GRANT_ID|$AWS_CREDENTIAL_EXPIRATION|\${#AWS_SECRET_ACCESS_KEY}|\${#AWS_SESSION_TOKEN}"`,
    );
    const [keyId, grantOut, expiration, secretLength, sessionLength] = shell.trim().split("|");
    expect(keyId).toBe(grant.accessKeyId);
    expect(grantOut).toBe(grantId);
    expect(Date.parse(expiration!)).toBe(Date.parse(grant.expiresAt));
    expect(Number(secretLength)).toBeGreaterThan(0);
    expect(Number(sessionLength)).toBeGreaterThan(0);
  });

  it("prints the bearer token as CREDBROKER_TOKEN for a jwt task", async () => {
    const out = await run(
      ["--url", broker.dev.url, "--task", "read-reports", "--token-env", "ID_TOKEN", "--format", "env"],
      { ID_TOKEN: await broker.mint() },
    );
    const token = (await bash(`${out}\necho "$CREDBROKER_TOKEN"`)).trim();
    expect(await broker.dev.deps.accessTokens.verify(token, Date.now())).toMatchObject({ sub: "web-ci" });
    expect(out).not.toContain("AWS_");
  });

  it("quotes values so that a shell never executes them", () => {
    const lines = envLines({
      access_token: "a'$(touch /tmp/pwned)'b",
      issued_token_type: "x",
      token_type: "Bearer",
      expires_in: 1,
      expires_at: "2026-01-01T00:00:00Z",
      scope: "s",
      grant_id: "g",
    });
    expect(lines).toContain(`export CREDBROKER_TOKEN='a'\\''$(touch /tmp/pwned)'\\''b'\n`);
  });

  it("gets the identity token from the GitHub Actions runtime for the audience the broker publishes", async () => {
    const requests: { url: string; auth: string | undefined }[] = [];
    // Like GitHub: the token's `aud` is whatever audience the job asked for.
    const oidc = createServer((req, res) => {
      requests.push({ url: req.url!, auth: req.headers.authorization });
      const audience = new URL(req.url!, "http://oidc").searchParams.get("audience") ?? "";
      void broker
        .mint(undefined, undefined, { audience })
        .then((value) =>
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value })),
        );
    });
    await new Promise<void>((res) => oidc.listen(0, "127.0.0.1", () => res()));
    try {
      const base = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/_apis/idtoken?api-version=2.0`;
      const out = await run(["--url", broker.dev.url, "--task", "read-reports", "--github"], {
        ACTIONS_ID_TOKEN_REQUEST_URL: base,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime-request-token",
      });
      expect(JSON.parse(out)).toMatchObject({ scope: "read-reports" });
      expect(requests).toEqual([
        {
          url: `/_apis/idtoken?api-version=2.0&audience=${encodeURIComponent(AUDIENCE)}`,
          auth: "bearer runtime-request-token",
        },
      ]);
    } finally {
      oidc.close();
    }
  });

  it("explains a GitHub job without id-token permission", async () => {
    await expect(run(["--url", broker.dev.url, "--task", "read-reports", "--github"], {})).rejects.toThrow(
      /id-token: write/,
    );
  });

  it.each([
    [["--task", "read-reports", "--token-env", "T"], /--url and --task are required/],
    [
      ["--url", "http://127.0.0.1:1", "--task", "t", "--token-env", "T", "--token-file", "f"],
      /exactly one of/,
    ],
    [
      ["--url", "http://127.0.0.1:1", "--task", "t", "--token-env", "T", "--format", "yaml"],
      /--format must be json or env/,
    ],
    [
      ["--url", "http://127.0.0.1:1", "--task", "t", "--token-env", "T", "--duration", "soon"],
      /--duration must be/,
    ],
    [["--url", "http://broker.example.com", "--task", "t", "--token-env", "T"], /must be https/],
    [["--url", "http://127.0.0.1:1", "--task", "t", "--token-env", "T", "--bogus"], /Unknown option/],
  ])("refuses bad usage %j with exit code 2", async (args, message) => {
    const err = await run(args, { T: "x" }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "CliError", exitCode: 2 });
    expect((err as Error).message).toMatch(message);
  });
});
