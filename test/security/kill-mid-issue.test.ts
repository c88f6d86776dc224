// The process killed mid-issue: `credbroker dev` (the real CLI, in a child process) issues aws-sts and jwt
// credentials against the STS/IAM fixture and is SIGKILLed while STS is making a session. Restarted on
// the same data dir, one sweep later every session STS made has a grant that is active (and was handed
// out) or failed and denied by tag; no grant is left issuing; every 200 the client saw is active.
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { IAMClient } from "@aws-sdk/client-iam";
import { STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevBroker } from "../../lib/local/dev-server.ts";
import { startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { captureLogger } from "../support/dev.ts";
import { startDevProcess } from "../support/dev-process.ts";
import { TOKEN_EXCHANGE_FORM } from "./dev-harness.ts";
import { allGrants } from "./helpers.ts";

let aws: AwsQueryServer;
let child: ChildProcess | undefined;
let restarted: DevBroker | undefined;

beforeAll(async () => {
  aws = await startAwsQueryServer();
});
afterAll(async () => {
  child?.kill("SIGKILL");
  await restarted?.close();
  await aws?.close();
});

describe("killed mid-issue", () => {
  it("after a restart and a sweep, every session STS may have made has a grant that is active or denied by tag", async () => {
    const dev = await startDevProcess({ sweepIntervalSeconds: 0, env: aws.env() });
    const { proc, url, dataDir, port, configPath } = dev;
    child = proc;

    const mint = async (sub: string, claims: Record<string, unknown>) =>
      (
        (await (
          await fetch(`${url}/dev/issuer/token`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ sub, claims }),
          })
        ).json()) as { token: string }
      ).token;
    const deployToken = await mint("repo:acme/web:ref:refs/heads/main", {
      repository: "acme/web",
      ref: "refs/heads/main",
    });
    const readToken = await mint("repo:acme/reports:ref:refs/heads/main", {});

    // SIGKILL the broker while STS is making the third session: the session exists, its answer never arrives.
    let assumed = 0;
    aws.intercept("AssumeRole", async () => {
      if (++assumed === 3) {
        proc.kill("SIGKILL");
        await once(proc, "exit");
      }
    });

    const delivered: string[] = [];
    const unexpected: string[] = [];
    const send = async (token: string, scope: string) => {
      let res: Response;
      let body: Record<string, string>;
      try {
        res = await fetch(`${url}/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: TOKEN_EXCHANGE_FORM(token, scope),
        });
        body = (await res.json()) as Record<string, string>;
      } catch {
        // The connection died with the process: the client got nothing.
        return;
      }
      if (res.status === 200) delivered.push(body["grant_id"]!);
      else if (res.status !== 503) unexpected.push(`${res.status} ${JSON.stringify(body)}`);
    };
    // Two deploys that finish, then a mixed burst during which the process dies.
    await send(deployToken, "deploy-web");
    await send(deployToken, "deploy-web");
    await Promise.all([
      send(deployToken, "deploy-web"),
      send(readToken, "read-reports"),
      send(readToken, "read-reports"),
      send(deployToken, "deploy-web"),
    ]);
    // On a loaded machine a request can fail with 503 before it reaches STS; keep asking (bounded) until
    // STS has seen its third session and the process is gone.
    for (let i = 0; i < 20 && proc.exitCode === null && proc.signalCode === null; i++)
      await send(deployToken, "deploy-web");
    expect(unexpected).toEqual([]);
    expect(proc.exitCode !== null || proc.signalCode === "SIGKILL").toBe(true);
    aws.intercept("AssumeRole", undefined);
    const sessions = aws.callsTo("AssumeRole").map((c) => c.params["RoleSessionName"]!.replace(/^cb-/, ""));
    expect(sessions.length).toBeGreaterThanOrEqual(3);

    // Restart on the same data dir, with a clock past the issuing timeout, and sweep once.
    const clientConfig = { ...aws.clientConfig, maxAttempts: 1 };
    restarted = await startDev({
      configPath,
      port,
      dataDir,
      dynamoPort: 0,
      sweepIntervalSeconds: 0,
      clock: { now: () => Date.now() + 61_000 },
      log: captureLogger([]),
      providers: (resolved) =>
        awsProviders(resolved, {
          stsClient: (region) => new STSClient({ ...clientConfig, region }),
          iamClient: new IAMClient(clientConfig),
        }),
    });
    const summary = await restarted.sweep();
    expect(summary.failed).toBeGreaterThanOrEqual(1);

    const grants = await allGrants(restarted.deps.store);
    const byId = new Map(grants.map((g) => [g.grantId, g]));
    const revocations = JSON.stringify(aws.policyDocument("web-deployer", "credbroker-revocations") ?? {});
    // No session is missing its grant; each is active or denied by tag.
    for (const id of sessions) {
      const grant = byId.get(id);
      expect(grant, `grant for session cb-${id}`).toBeDefined();
      if (grant!.status !== "active") {
        expect(grant!.status).toBe("failed");
        expect(revocations).toContain(id);
      }
    }
    // Every 200 the client saw is an active grant; nothing is left issuing.
    for (const id of delivered) expect(byId.get(id)?.status).toBe("active");
    expect(grants.filter((g) => g.status === "issuing")).toEqual([]);
  });
});
