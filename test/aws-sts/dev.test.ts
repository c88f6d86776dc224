// `credbroker dev` with AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_IAM pointing at the Query fixture and no AWS
// credentials: the demo config's aws-sts task issues and revokes end to end, the way a user tries it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

let aws: AwsQueryServer;
let dev: DevBroker;
let dataDir: string;
const CREDENTIAL_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];

beforeAll(async () => {
  aws = await startAwsQueryServer();
  process.env["AWS_ENDPOINT_URL_STS"] = aws.url;
  process.env["AWS_ENDPOINT_URL_IAM"] = aws.url;
  for (const name of CREDENTIAL_VARS) delete process.env[name];
  dataDir = await mkdtemp(join(tmpdir(), "credbroker-sts-dev-"));
  // The demo config trusts the dev issuer on port 8787; a copy points it at a free port.
  const port = await freePort();
  const configPath = await demoConfigFor(dataDir, port);
  dev = await startDev({
    configPath,
    port,
    inMemory: true,
    dataDir,
    sweepIntervalSeconds: 0,
    log: silentLogger,
    providers: (r) => awsProviders(r),
  });
});
afterAll(async () => {
  await dev?.close();
  await aws?.close();
  await rm(dataDir, { recursive: true, force: true });
  delete process.env["AWS_ENDPOINT_URL_STS"];
  delete process.env["AWS_ENDPOINT_URL_IAM"];
});

const post = async (path: string, body: Record<string, string>) => {
  const res = await fetch(`${dev.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe("credbroker dev with the STS/IAM fixture", () => {
  it("issues AWS credentials for deploy-web and revokes them into the role's policy", async () => {
    const minted = await fetch(`${dev.url}/dev/issuer/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        sub: "repo:acme/web:ref:refs/heads/main",
        claims: { repository: "acme/web", ref: "refs/heads/main" },
      }),
    });
    const { token } = (await minted.json()) as { token: string };
    const issued = await post("/token", {
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: "deploy-web",
    });
    expect(issued.status).toBe(200);
    expect(issued.body["credentials"]).toMatchObject({ AccessKeyId: expect.stringMatching(/^ASIA/) });
    const grantId = issued.body["grant_id"] as string;
    const call = aws.callsTo("AssumeRole")[0]!;
    expect(call.params["RoleSessionName"]).toBe(`cb-${grantId}`);
    expect(JSON.parse(call.params["Policy"]!).Statement[0].Resource).toBe(
      `arn:aws:s3:::acme-web/acme/web/${grantId}/*`,
    );

    const released = await post("/revoke", { token: grantId, subject_token: token });
    expect(released.status).toBe(200);
    expect(JSON.stringify(aws.policyDocument("web-deployer"))).toContain(grantId);
  });
});
