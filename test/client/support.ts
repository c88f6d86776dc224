// `credbroker dev` for client tests: the demo config on a free loopback port, aws-sts tasks issued through
// the STS Query-protocol fixture, and a helper that mints dev identity tokens.

import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { ResolvedConfig } from "../../lib/config/resolve.ts";
import type { Clock } from "../../lib/core/clock.ts";
import { silentLogger } from "../../lib/core/logger.ts";
import type { CredentialProvider } from "../../lib/core/providers/provider.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";

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

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

/**
 * aws-sts through the real adapter once it exists (issue 3); until then a minimal stand-in that calls the
 * same fixture through the real STS client, so the credentials still come from AssumeRole on the wire.
 */
function stsProviders(
  resolved: ResolvedConfig,
  aws: AwsQueryServer,
): Partial<Record<"aws-sts", CredentialProvider>> {
  const real = awsProviders(resolved, { region: aws.clientConfig.region })["aws-sts"];
  if (real) return { "aws-sts": real };
  const sts = new STSClient(aws.clientConfig);
  return {
    "aws-sts": {
      prepare: ({ task, durationSeconds }) => ({
        provider: "aws-sts",
        durationSeconds,
        roleArn: (task as { roleArn: string }).roleArn,
        request: {},
      }),
      async issue(prepared, grant) {
        const out = await sts.send(
          new AssumeRoleCommand({
            RoleArn: prepared.roleArn,
            RoleSessionName: `cb-${grant.grantId}`,
            DurationSeconds: prepared.durationSeconds,
          }),
        );
        const c = out.Credentials!;
        return {
          accessToken: c.SessionToken!,
          issuedTokenType: "urn:credbroker:token-type:aws-credentials",
          tokenType: "N_A",
          expiresAtMs: c.Expiration!.getTime(),
          accessKeyId: c.AccessKeyId!,
          credentials: {
            AccessKeyId: c.AccessKeyId!,
            SecretAccessKey: c.SecretAccessKey!,
            SessionToken: c.SessionToken!,
            Expiration: c.Expiration!.toISOString().replace(".000Z", "Z"),
          },
        };
      },
      revoke: async () => undefined,
    },
  };
}

export async function startClientTestBroker(options: { clock?: Clock } = {}): Promise<ClientTestBroker> {
  const dataDir = await mkdtemp(join(tmpdir(), "cb-client-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  await cp("examples/policies", join(dataDir, "policies"), { recursive: true });
  const config = (await readFile("examples/broker.config.yaml", "utf8")).replaceAll(
    "http://127.0.0.1:8787",
    url,
  );
  await writeFile(join(dataDir, "broker.config.yaml"), config);
  const now = options.clock ? () => options.clock!.now() : Date.now;
  const aws = await startAwsQueryServer({ now });
  for (const [k, v] of Object.entries(aws.env())) process.env[k] = v;
  const dev = await startDev({
    configPath: join(dataDir, "broker.config.yaml"),
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
