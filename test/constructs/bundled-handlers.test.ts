// The Lambda bundles as synthesized, run in a plain Node process outside the repository (no node_modules to
// fall back on) against dynalite and the local KMS and STS/IAM fixtures: proves the bundle carries its
// dependencies, the Cedar wasm and the validated config, and that the functions answer as the contract says.
// Every DynamoDB, KMS, STS and IAM call each function makes is recorded and held against its synthesized role.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { exportJWK, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import type { BrokerFunctionName } from "../../lib/constructs/credential-broker.ts";
import { type LocalDynamo, startLocalDynamo } from "../../lib/local/dynalite.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { type KmsFixture, startKmsFixture } from "../fixtures/kms-server.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";
import { type RecordingProxy, startRecordingProxy } from "../support/recording-proxy.ts";
import { DEPLOY_ROLE, roleStatements, type TemplateResources, VALID_POLICY, writeConfig } from "./support.ts";

const run = promisify(execFile);

let outdir: string;
let stack: CredbrokerStack;
let dynamo: LocalDynamo;
let kms: KmsFixture;
let issuer: TestIssuer;
let approvers: TestIssuer;
let recorder: RecordingProxy;
let aws: AwsQueryServer;
/** What each function called, as `action` or `action index`, across every invocation in this file. */
const calledBy = new Map<BrokerFunctionName, Set<string>>();
const tableName = "credbroker-bundle-test";

function assetDir(name: BrokerFunctionName): string {
  const id = stack.getLogicalId(stack.broker.functions[name].node.defaultChild as never);
  const resources = Template.fromStack(stack).toJSON()["Resources"] as Record<
    string,
    { Properties: { Code: { S3Key: string } } }
  >;
  return join(outdir, `asset.${resources[id]!.Properties.Code.S3Key.replace(/\.zip$/, "")}`);
}

/** Invokes a bundled handler once in a fresh Node process, as the Lambda runtime would. */
async function invoke(name: BrokerFunctionName, event: unknown, extraEnv: Record<string, string> = {}) {
  const dir = assetDir(name);
  const script = [
    "const m = await import(process.env.ENTRY);",
    "const ctx = { getRemainingTimeInMillis: () => 20000 };",
    "const res = await m.handler(JSON.parse(process.env.EVENT), ctx);",
    "process.stdout.write('\\nRESULT ' + JSON.stringify(res) + '\\n');",
  ].join("\n");
  recorder.caller = name;
  const kmsBefore = kms.calls.length;
  const awsBefore = aws.calls.length;
  const recordedBefore = recorder.calls.length;
  const record = () => {
    const seen = calledBy.get(name) ?? new Set<string>();
    for (const c of recorder.calls.slice(recordedBefore))
      seen.add(c.index ? `${c.action} ${c.index}` : c.action);
    for (const c of kms.calls.slice(kmsBefore)) seen.add(`kms:${c.target.split(".")[1]}`);
    for (const c of aws.calls.slice(awsBefore)) {
      seen.add(`${c.service}:${c.action}`);
      // AssumeRole with session tags and a source identity needs these two actions on the role as well.
      if (c.params["Tags.member.1.Key"]) seen.add("sts:TagSession");
      if (c.params["SourceIdentity"]) seen.add("sts:SetSourceIdentity");
    }
    calledBy.set(name, seen);
  };
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
    cwd: mkdtempSync(join(tmpdir(), "credbroker-lambda-cwd-")),
    env: {
      PATH: process.env["PATH"] ?? "",
      ENTRY: join(dir, "index.mjs"),
      EVENT: JSON.stringify(event),
      LAMBDA_TASK_ROOT: dir,
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_ENDPOINT_URL_DYNAMODB: recorder.endpoint,
      AWS_ENDPOINT_URL_KMS: kms.endpoint,
      AWS_ENDPOINT_URL_STS: aws.url,
      AWS_ENDPOINT_URL_IAM: aws.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      CREDBROKER_TABLE: tableName,
      CREDBROKER_CONFIG_BUNDLE: "credbroker.config.json",
      CREDBROKER_DUE_SHARDS: "8",
      ...(name === "sweep" || name === "approvals" ? {} : { CREDBROKER_SIGNING_KEY_ID: kms.keyArn }),
      AWS_LAMBDA_FUNCTION_NAME: `credbroker-${name}`,
      ...extraEnv,
    },
  }).finally(record);
  const lines = stdout.split("\n").filter(Boolean);
  const result = lines.find((l) => l.startsWith("RESULT "));
  return {
    result: JSON.parse(result!.slice(7)),
    lines: lines.filter((l) => !l.startsWith("RESULT ")).map((l) => JSON.parse(l)),
  };
}

const httpEvent = (method: string, path: string, body?: Record<string, string>) => ({
  version: "2.0",
  routeKey: `ANY ${path}`,
  rawPath: path,
  headers: { "content-type": "application/x-www-form-urlencoded" },
  ...(body ? { body: new URLSearchParams(body).toString() } : {}),
  isBase64Encoded: false,
  requestContext: { requestId: "req-bundle", http: { method, path, sourceIp: "203.0.113.7" } },
});

beforeAll(async () => {
  issuer = await createTestIssuer();
  approvers = await createTestIssuer("https://idp.corp.test");
  const configPath = writeConfig(
    {
      version: 1,
      audience: "credbroker",
      issuerUrl: "https://broker.test",
      issuers: [
        { name: "test", issuer: issuer.issuer, jwks: issuer.jwks, algorithms: ["ES256"] },
        { name: "corp", issuer: approvers.issuer, jwks: approvers.jwks, algorithms: ["ES256"] },
      ],
      approvals: { issuers: ["corp"] },
      workloads: [
        { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
      ],
      tasks: [
        {
          name: "read-reports",
          provider: "jwt",
          audience: "https://reports.test",
          scopes: ["reports:read"],
          maxDurationSeconds: 300,
        },
        { name: "deploy-web", provider: "aws-sts", roleArn: DEPLOY_ROLE, maxDurationSeconds: 900 },
        {
          name: "rotate-db",
          provider: "jwt",
          audience: "https://db.test",
          maxDurationSeconds: 300,
          approval: { approvals: 1, expiresInSeconds: 900 },
        },
      ],
      policies: ["policies/*.cedar"],
    },
    {
      "main.cedar": `${VALID_POLICY}
@id("ci-deploys-web")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"deploy-web");
@id("ci-rotates-db")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"rotate-db");
@id("corp-approves")
permit (principal, action == Action::"approve", resource) when { principal.issuer == "corp" };
`,
    },
  );
  outdir = mkdtempSync(join(tmpdir(), "credbroker-bundle-out-"));
  const app = new App({ outdir });
  stack = new CredbrokerStack(app, "Bundled", { broker: { configPath } });
  app.synth();
  dynamo = await startLocalDynamo();
  await ensureTable(dynamo.client, tableName);
  recorder = await startRecordingProxy(dynamo.endpoint);
  kms = await startKmsFixture();
  aws = await startAwsQueryServer();
}, 240_000);

afterAll(async () => {
  await recorder?.close();
  await aws?.close();
  await dynamo?.close();
  await kms?.close();
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe("bundled Lambda handlers", () => {
  let accessToken: string;

  it("token: exchanges a subject token for a KMS-signed access token (Cedar wasm loaded from the bundle)", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" });
    const { result, lines } = await invoke(
      "token",
      httpEvent("POST", "/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: subject,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    );
    expect(result.statusCode).toBe(200);
    expect(result.headers["cache-control"]).toBe("no-store");
    const body = JSON.parse(result.body);
    expect(body).toMatchObject({
      token_type: "Bearer",
      scope: "read-reports",
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
    });
    accessToken = body.access_token;
    const { payload } = await jwtVerify(accessToken, kms.publicKey, {
      issuer: "https://broker.test",
      audience: "https://reports.test",
    });
    expect(payload).toMatchObject({ sub: "web-ci", jti: body.grant_id });
    expect(kms.calls.some((c) => c.target === "TrentService.Sign")).toBe(true);
    // Nothing secret in the function's log lines.
    expect(JSON.stringify(lines)).not.toContain(subject);
    expect(JSON.stringify(lines)).not.toContain(accessToken);
  });

  it("token: a denied request is a 403 access_denied, not a 5xx", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/other" });
    const { result } = await invoke(
      "token",
      httpEvent("POST", "/token", {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token: subject,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        scope: "read-reports",
      }),
    );
    expect(result.statusCode).toBe(403);
    expect(JSON.parse(result.body)).toMatchObject({ error: "access_denied" });
  });

  it("introspect: reports the issued token active", async () => {
    const { result } = await invoke("introspect", httpEvent("POST", "/introspect", { token: accessToken }));
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ active: true, sub: "web-ci", scope: "reports:read" });
  });

  it("revoke: a workload releases its own grant, and introspection then reports it inactive", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" });
    const { result } = await invoke(
      "revoke",
      httpEvent("POST", "/revoke", {
        token: accessToken,
        subject_token: subject,
        subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      }),
    );
    expect(result.statusCode).toBe(200);
    const after = await invoke("introspect", httpEvent("POST", "/introspect", { token: accessToken }));
    expect(JSON.parse(after.result.body)).toEqual({ active: false });
  });

  it("token and revoke: AWS credentials for an aws-sts task, then its grant listed in the role's revocations", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" });
    const exchange = {
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: subject,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    };
    const issued = await invoke("token", httpEvent("POST", "/token", { ...exchange, scope: "deploy-web" }));
    expect(issued.result.statusCode).toBe(200);
    const grantId = JSON.parse(issued.result.body).grant_id as string;
    expect(aws.callsTo("AssumeRole").at(-1)?.params["RoleSessionName"]).toBe(`cb-${grantId}`);

    const released = await invoke("revoke", httpEvent("POST", "/revoke", { ...exchange, token: grantId }));
    expect(released.result.statusCode).toBe(200);
    expect(JSON.stringify(aws.policyDocument("web-deployer", "credbroker-revocations"))).toContain(grantId);
  });

  it("metadata: serves the JWKS derived from the KMS public key", async () => {
    const { result } = await invoke("metadata", httpEvent("GET", "/.well-known/jwks.json"));
    const expected = await exportJWK(kms.publicKey);
    expect(JSON.parse(result.body).keys).toEqual([
      expect.objectContaining({ kty: "EC", crv: "P-256", x: expected.x, y: expected.y }),
    ]);
  });

  it("token: with KMS unreachable at cold start, answers 503 temporarily_unavailable rather than failing to load", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" });
    kms.failNext(1_000);
    try {
      const { result, lines } = await invoke(
        "token",
        httpEvent("POST", "/token", {
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: subject,
          subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
          scope: "read-reports",
        }),
      );
      expect(result.statusCode).toBe(503);
      expect(result.headers["cache-control"]).toBe("no-store");
      expect(JSON.parse(result.body)).toMatchObject({ error: "temporarily_unavailable" });
      expect(lines).toContainEqual(
        expect.objectContaining({ message: "broker unavailable", error: "KMSInternalException" }),
      );
    } finally {
      kms.failNext(0);
    }
  });

  it("token and approvals: a request waits for approval, an approver approves, the next poll gets the token", async () => {
    const subject = await issuer.mint({ sub: "repo:acme/web:ref:refs/heads/main", repository: "acme/web" });
    const exchange = {
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: subject,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: "rotate-db",
    };
    const asked = await invoke("token", httpEvent("POST", "/token", exchange));
    expect(asked.result.statusCode).toBe(400);
    const id = JSON.parse(asked.result.body).approval_id as string;
    const approver = await approvers.mint({ sub: "alice" });
    const withBearer = (e: ReturnType<typeof httpEvent>) => ({
      ...e,
      headers: { ...e.headers, authorization: `Bearer ${approver}` },
    });
    const list = await invoke("approvals", withBearer(httpEvent("GET", "/approvals")));
    expect(JSON.parse(list.result.body).approvals).toEqual([expect.objectContaining({ approvalId: id })]);
    const approved = await invoke(
      "approvals",
      withBearer(httpEvent("POST", `/approvals/${id}`, { decision: "approve", reason: "ok" })),
    );
    expect(JSON.parse(approved.result.body)).toMatchObject({ status: "approved", approvals: 1, needed: 1 });
    const polled = await invoke("token", httpEvent("POST", "/token", { ...exchange, approval_id: id }));
    // Polled within the interval in this test's wall clock, or after it: either way no credential yet or one.
    if (polled.result.statusCode !== 200) {
      expect(JSON.parse(polled.result.body).error).toBe("slow_down");
      await new Promise((r) => setTimeout(r, 10_000));
      const again = await invoke("token", httpEvent("POST", "/token", { ...exchange, approval_id: id }));
      expect(again.result.statusCode).toBe(200);
    }
  }, 60_000);

  it("sweep: runs without a signing key and publishes EMF metrics", async () => {
    // A workload left marked for re-evaluation (as `signals set` leaves it), so the run reads the live index.
    await new DynamoGrantStore({ client: dynamo.client, tableName }).markReevaluation(
      "web-ci",
      Date.now() - 120_000,
    );
    const before = kms.calls.length;
    const { result, lines } = await invoke("sweep", { source: "aws.events" });
    expect(result).toMatchObject({ complete: true });
    expect(kms.calls.length).toBe(before);
    const emf = lines.find((l) => l._aws);
    expect(emf).toMatchObject({ SweepLagSeconds: 0, SweepErrors: 0, FunctionName: "credbroker-sweep" });
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: "credbroker",
      Dimensions: [["FunctionName"]],
    });
  });

  it("each function's role allows every DynamoDB, KMS, STS and IAM call that function made", () => {
    const resources = Template.fromStack(stack).toJSON()["Resources"] as TemplateResources;
    expect([...calledBy.keys()].sort()).toEqual([
      "approvals",
      "introspect",
      "metadata",
      "revoke",
      "sweep",
      "token",
    ]);
    const refused: string[] = [];
    for (const [name, calls] of calledBy) {
      const statements = roleStatements(stack, resources, name);
      for (const call of calls) {
        const [action, index] = call.split(" ") as [string, string | undefined];
        // IAM always allows GetCallerIdentity (no policy can grant or deny it), so no role lists it.
        if (action === "sts:GetCallerIdentity") continue;
        const resource = action.startsWith("kms:")
          ? "AWS::KMS::Key"
          : action.startsWith("sts:") || action.startsWith("iam:")
            ? DEPLOY_ROLE
            : `AWS::DynamoDB::Table${index ? `/index/${index}` : ""}`;
        if (!statements.some((st) => st.actions.includes(action) && st.resources.includes(resource)))
          refused.push(`${name}: ${call}`);
      }
    }
    expect(refused).toEqual([]);
    // The recording saw the calls that matter, so an empty list above means something.
    expect(calledBy.get("token")).toContain("dynamodb:PutItem");
    expect(calledBy.get("token")).toContain("kms:Sign");
    expect(calledBy.get("sweep")).toContain("dynamodb:Query gsi2");
    expect(calledBy.get("sweep")).toContain("dynamodb:Query gsi3");
    expect(calledBy.get("sweep")).toContain("dynamodb:DeleteItem");
    expect(calledBy.get("token")).toContain("sts:AssumeRole");
    expect(calledBy.get("revoke")).toContain("iam:PutRolePolicy");
  });
});
