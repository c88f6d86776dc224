// The broker the issue-path and throughput figures drive: `credbroker dev` (startDev), an issuer with inline
// keys (so no JWKS fetch is timed), and the aws-sts task pointed at the STS fixture. DynamoDB (dynalite) and
// the STS fixture run in a process of their own (bench/services.ts), as AWS runs apart from a Lambda: the
// broker then waits for its I/O, and what it does meanwhile is not charged to it. `services: "inline"` keeps
// them in the broker's process instead (the V8 abort reproduction, and the figures of earlier runs). Subject
// tokens are minted before timing starts.
import { fork } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jsonLogger } from "../lib/core/logger.ts";
import { type DevBroker, startDev } from "../lib/local/dev-server.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { awsProviders } from "../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../test/fixtures/aws-query-server.ts";
import { createTestIssuer, type TestIssuer } from "../test/support/issuer.ts";
import { GITHUB_LIKE_CLAIMS } from "./claims.ts";

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

/** Where the broker's I/O goes: dynalite and the STS fixture. */
export interface BenchServices {
  /** "process": their own Node process; "inline": the broker's. */
  where: "process" | "inline";
  dynamoEndpoint: string;
  aws: Pick<AwsQueryServer, "env" | "clientConfig">;
  close(): Promise<void>;
}

export interface BenchBroker {
  dev: DevBroker;
  aws: BenchServices["aws"];
  services: BenchServices;
  issuer: TestIssuer;
  /** True when the aws-sts provider is wired (issue 3 landed); otherwise the issue path uses the jwt task. */
  hasAwsSts: boolean;
  mintTokens(count: number): Promise<string[]>;
  /** One POST /token; resolves with the HTTP status (the body is read and dropped). */
  exchange(token: string, task: "deploy-web" | "read-reports", agent?: Agent): Promise<number>;
  close(): Promise<void>;
}

/** dynalite and the STS fixture in the broker's process. */
async function inlineServices(): Promise<BenchServices> {
  const dynamo = await startLocalDynamo();
  const aws = await startAwsQueryServer();
  // The fixture keeps every call for tests' assertions; a benchmark has no use for them.
  const forget = setInterval(() => {
    aws.calls.length = 0;
  }, 1_000);
  return {
    where: "inline",
    dynamoEndpoint: dynamo.endpoint,
    aws,
    async close() {
      clearInterval(forget);
      await Promise.all([dynamo.close(), aws.close()]);
    },
  };
}

/** dynalite and the STS fixture in a child process (bench/services.ts), on the same Node as the bench. */
async function processServices(): Promise<BenchServices> {
  const child = fork(fileURLToPath(new URL("./services.ts", import.meta.url)), [], {
    execPath: process.execPath,
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const ready = await new Promise<{
    dynamoEndpoint: string;
    awsEnv: Record<string, string>;
    awsClientConfig: AwsQueryServer["clientConfig"];
  }>((resolve, reject) => {
    child.once("message", (m) => resolve(m as never));
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`bench services exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    where: "process",
    dynamoEndpoint: ready.dynamoEndpoint,
    aws: { env: () => ready.awsEnv, clientConfig: ready.awsClientConfig },
    async close() {
      if (child.connected) child.send("exit");
      await exited;
    },
  };
}

export async function startBenchBroker(
  options: { services?: BenchServices["where"] } = {},
): Promise<BenchBroker> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-bench-"));
  const services = await (options.services === "inline" ? inlineServices() : processServices());
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
    aws,
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
