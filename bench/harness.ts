// The broker the issue-path and throughput figures drive: `credbroker dev` (startDev), an issuer with inline
// keys (so no JWKS fetch is timed), and the aws-sts task pointed at the STS fixture. DynamoDB (dynalite) and
// the STS fixture run in a process of their own (bench/services.ts), as AWS runs apart from a Lambda: the
// broker then waits for its I/O, and what it does meanwhile is not charged to it. `services: "inline"` keeps
// them in the broker's process instead (the V8 abort reproduction, and the figures of earlier runs). Subject
// tokens are minted before timing starts.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jsonLogger } from "../lib/core/logger.ts";
import { type DevBroker, startDev } from "../lib/local/dev-server.ts";
import { awsProviders } from "../lib/runtime/aws-providers.ts";
import { createTestIssuer, type TestIssuer } from "../test/support/issuer.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";
import { type BenchServices, startInlineServices, startServicesProcess } from "./services.ts";

export const ROLE_ARN = "arn:aws:iam::111122223333:role/web-deployer";
export const SESSION_POLICY = {
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["s3:PutObject"],
      Resource: "arn:aws:s3:::acme-web/${claim:repository}/${grant.id}/*",
    },
  ],
};

export interface BenchBroker {
  dev: DevBroker;
  /** dynalite and the STS fixture (their endpoints, client config, where they run). */
  services: BenchServices;
  issuer: TestIssuer;
  /** True when the aws-sts provider is wired (issue 3 landed); otherwise the issue path uses the jwt task. */
  hasAwsSts: boolean;
  mintTokens(count: number): Promise<string[]>;
  /** One POST /token; resolves with the HTTP status (the body is read and dropped). */
  exchange(token: string, task: "deploy-web" | "read-reports", agent?: Agent): Promise<number>;
  close(): Promise<void>;
}

export async function startBenchBroker(
  options: { services?: BenchServices["where"] } = {},
): Promise<BenchBroker> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-bench-"));
  const services = await (options.services === "inline" ? startInlineServices() : startServicesProcess());
  const { aws } = services;
  // The SDK reads these when the aws-sts provider builds its STS and IAM clients.
  Object.assign(process.env, aws.env(), {
    AWS_REGION: "us-east-1",
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  });

  const issuer = await createTestIssuer("https://token.actions.githubusercontent.com", "RS256");
  const config = {
    version: 1,
    audience: "credbroker",
    issuerUrl: "http://127.0.0.1",
    issuers: [
      {
        name: "github",
        issuer: issuer.issuer,
        jwks: issuer.jwks,
        algorithms: ["RS256"],
        // Tokens are minted before timing starts, and a full run on a busy machine takes longer than the
        // usual 15 minutes: they must stay valid until the last series.
        maxTokenAgeSeconds: 7_200,
        clockToleranceSeconds: 30,
      },
    ],
    workloads: [
      {
        name: "reports-job",
        issuer: "github",
        subject: "repo:acme/reports:ref:refs/heads/main",
        owner: "team-data@acme.example",
      },
      { name: "web-ci", issuer: "github", subject: "repo:acme/web:**", owner: "team-web@acme.example" },
    ],
    tasks: [
      {
        name: "read-reports",
        provider: "jwt",
        audience: "https://reports.acme.example",
        scopes: ["reports:read"],
        maxDurationSeconds: 300,
        sensitivity: "low",
      },
      {
        name: "deploy-web",
        provider: "aws-sts",
        roleArn: ROLE_ARN,
        sessionPolicy: SESSION_POLICY,
        maxDurationSeconds: 900,
        sensitivity: "high",
      },
    ],
    policies: ["policies/*.cedar"],
  };
  // The demo's own policies: identity permits, the network forbid and the quarantine signal.
  await mkdir(join(dir, "policies"));
  for (const name of ["identity.cedar", "context.cedar", "exceptions.cedar"]) {
    const text = await readFile(new URL(`../examples/policies/${name}`, import.meta.url), "utf8");
    await writeFile(join(dir, "policies", name), text);
  }
  await writeFile(join(dir, "broker.config.json"), JSON.stringify(config, null, 2));

  const dev = await startDev({
    configPath: join(dir, "broker.config.json"),
    port: 0,
    inMemory: true,
    dynamoEndpoint: services.dynamoEndpoint,
    dataDir: dir,
    sweepIntervalSeconds: 0,
    // Audit lines are serialised as in production, then dropped instead of written to a terminal.
    log: jsonLogger(() => {}),
    providers: (resolved) => awsProviders(resolved, { region: "us-east-1" }),
  });
  const hasAwsSts = dev.deps.providers["aws-sts"] !== undefined;
  const target = new URL(dev.url);
  const defaultAgent = new Agent({ keepAlive: true, maxSockets: 64 });

  const exchange: BenchBroker["exchange"] = (token, task, agent = defaultAgent) =>
    new Promise((resolve, reject) => {
      const body = new URLSearchParams({
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: token,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: task,
      }).toString();
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          path: "/token",
          method: "POST",
          agent,
          headers: {
            "content-type": "application/x-www-form-urlencoded",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  return {
    dev,
    services,
    issuer,
    hasAwsSts,
    async mintTokens(count) {
      const tokens: string[] = [];
      for (let i = 0; i < count; i++)
        tokens.push(
          await issuer.mint(
            { ...GITHUB_LIKE_CLAIMS, run_id: String(1_000_000 + i) },
            { lifetimeSeconds: 7_200 },
          ),
        );
      return tokens;
    },
    exchange,
    async close() {
      defaultAgent.destroy();
      await dev.close();
      await services.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
