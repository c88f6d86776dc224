// `credbroker dev` for client tests: the demo config on a free loopback port, aws-sts tasks issued by the
// real STS/IAM adapters against the Query-protocol fixture, and a helper that mints dev identity tokens.

import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedConfig } from "../../lib/config/resolve.ts";
import type { Clock } from "../../lib/core/clock.ts";
import { silentLogger } from "../../lib/core/logger.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { type GitHubStandIn, startGitHubStandIn } from "../fixtures/github-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

export const WEB_MAIN = "repo:acme/web:ref:refs/heads/main";
export const WEB_CLAIMS = { repository: "acme/web", ref: "refs/heads/main" };

export interface ClientTestBroker {
  dev: DevBroker;
  /** The config's `audience`: what the broker publishes in its metadata and requires in `aud`. */
  audience: string;
  aws: AwsQueryServer;
  /** The GitHub stand-in the demo's github task points at, when asked for. */
  github?: GitHubStandIn;
  dataDir: string;
  mint(
    sub?: string,
    claims?: Record<string, unknown>,
    options?: { nowMs?: number; lifetimeSeconds?: number; audience?: string },
  ): Promise<string>;
  close(): Promise<void>;
}

/** aws-sts through the real adapters (lib/runtime/aws-providers.ts), pointed at the fixture by the environment. */
function stsProviders(
  resolved: ResolvedConfig,
  aws: AwsQueryServer,
): Partial<Record<"aws-sts", CredentialProvider>> {
  const real = awsProviders(resolved, { region: aws.clientConfig.region })["aws-sts"];
  if (!real) throw new Error("awsProviders built no aws-sts provider");
  return { "aws-sts": real };
}

/** Rewrites the demo config's `audience`, refusing to guess if the demo no longer has the line. */
async function setAudience(configPath: string, audience: string): Promise<void> {
  const config = await readFile(configPath, "utf8");
  const line = /^audience: credbroker$/m;
  if (!line.test(config)) throw new Error(`${configPath} has no top-level "audience: credbroker" line`);
  await writeFile(configPath, config.replace(line, `audience: ${JSON.stringify(audience)}`));
}

/**
 * `audience` other than the demo's (and the contract's fallback) "credbroker" makes a client that fails to
 * read the broker's metadata ask for the wrong audience, and the broker refuse the token.
 */
export async function startClientTestBroker(
  options: { clock?: Clock; audience?: string; github?: boolean } = {},
): Promise<ClientTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-client-"));
  const port = await freePort();
  const configPath = await demoConfigFor(dataDir, port);
  const audience = options.audience ?? "credbroker";
  if (options.audience !== undefined) await setAudience(configPath, options.audience);
  const now = options.clock ? () => options.clock!.now() : Date.now;
  const github = options.github ? await pointDemoAtStandIn(configPath, dataDir, now) : undefined;
  const aws = await startAwsQueryServer({ now });
  for (const [k, v] of Object.entries(aws.env())) process.env[k] = v;
  const dev = await startDev({
    configPath,
    port,
    dynamoPort: 0,
    inMemory: true,
    dataDir,
    sweepIntervalSeconds: 0,
    log: silentLogger,
    providers: (resolved) => stsProviders(resolved, aws),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return {
    dev,
    audience,
    aws,
    ...(github ? { github } : {}),
    dataDir,
    mint: (sub = WEB_MAIN, claims = WEB_CLAIMS, o = {}) =>
      dev.devIssuer.mint({
        sub,
        claims,
        audience: o.audience ?? audience,
        nowMs: o.nowMs ?? now(),
        ...(o.lifetimeSeconds ? { lifetimeSeconds: o.lifetimeSeconds } : {}),
      }),
    async close() {
      await dev.close();
      await aws.close();
      await github?.close();
    },
  };
}

/** Starts a GitHub stand-in with the demo App installed on acme, and points the demo config's App at it. */
export async function pointDemoAtStandIn(
  configPath: string,
  dataDir: string,
  now: () => number,
): Promise<GitHubStandIn> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pemPath = join(dataDir, "github-app.pem");
  await writeFile(pemPath, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  const github = await startGitHubStandIn({
    nowMs: now,
    apps: [
      {
        appId: "123456",
        publicKey,
        installations: [
          {
            id: 7,
            account: "acme",
            type: "Organization",
            repositories: ["web", "reports", "docs"],
            permissions: { contents: "write", pull_requests: "write", metadata: "read" },
          },
        ],
      },
    ],
  });
  const config = await readFile(configPath, "utf8");
  // The demo's App key is in KMS; here the same App signs with a PEM file instead.
  const keyLine = /kmsKeyArn: arn:aws:kms:\S+/;
  // The apiUrl line itself: a bare "http://127.0.0.1:4600" also matches the dev server's own URL when its
  // free port happens to start with 4600 (46001 became the stand-in's port plus a trailing "1").
  const apiLine = /apiUrl: http:\/\/127\.0\.0\.1:4600(?!\d)/;
  if (!apiLine.test(config) || !keyLine.test(config))
    throw new Error(`${configPath} no longer names the GitHub stand-in and its key`);
  await writeFile(
    configPath,
    config.replace(apiLine, `apiUrl: ${github.url}`).replace(keyLine, `file: ${JSON.stringify(pemPath)}`),
  );
  return github;
}
