// `credbroker dev` for client tests: the demo config on a free loopback port, aws-sts tasks issued by the
// real STS/IAM adapters against the Query-protocol fixture, and a helper that mints dev identity tokens.

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ResolvedConfig } from "../../lib/config/resolve.ts";
import type { Clock } from "../../lib/core/clock.ts";
import { silentLogger } from "../../lib/core/logger.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

export const WEB_MAIN = "repo:acme/web:ref:refs/heads/main";
export const WEB_CLAIMS = { repository: "acme/web", ref: "refs/heads/main" };

export interface ClientTestBroker {
  dev: DevBroker;
  aws: AwsQueryServer;
  dataDir: string;
  mint(
    sub?: string,
    claims?: Record<string, unknown>,
    options?: { nowMs?: number; lifetimeSeconds?: number },
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

export async function startClientTestBroker(options: { clock?: Clock } = {}): Promise<ClientTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-client-"));
  const port = await freePort();
  const configPath = await demoConfigFor(dataDir, port);
  const now = options.clock ? () => options.clock!.now() : Date.now;
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
    aws,
    dataDir,
    mint: (sub = WEB_MAIN, claims = WEB_CLAIMS, o = {}) =>
      dev.devIssuer.mint({
        sub,
        claims,
        audience: "credbroker",
        nowMs: o.nowMs ?? now(),
        ...(o.lifetimeSeconds ? { lifetimeSeconds: o.lifetimeSeconds } : {}),
      }),
    async close() {
      await dev.close();
      await aws.close();
    },
  };
}
