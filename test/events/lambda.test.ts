// The events function as Lambda runs it (lib/runtime/lambda-events.ts, behind lambdas/events.ts): the config
// from its bundle, the table from the environment, the webhook secret from Secrets Manager (the loopback
// fixture), the same handler for the HTTP API's webhook routes and the EventBridge rule's findings.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { toConfigBundle } from "../../lib/config/load-sync.ts";
import { resolveConfig } from "../../lib/config/resolve.ts";
import type { HttpResult } from "../../lib/http/apigw.ts";
import {
  type SecretsManagerFixture,
  startSecretsManagerFixture,
} from "../fixtures/secrets-manager-server.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  sharedDynamo,
  type TestBroker,
} from "../support/broker.ts";
import { EXAMPLE_JOB_CLAIMS } from "./in-process.ts";
import { GITHUB_SECRET, githubExample, newDeliveryId } from "./support.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:credbroker/github-webhook-AbCdEf";
let sm: SecretsManagerFixture;
let broker: TestBroker;
let handler: (event: unknown) => Promise<unknown>;
const saved = { ...process.env };

beforeAll(async () => {
  sm = await startSecretsManagerFixture();
  sm.secrets.set(SECRET_ARN, GITHUB_SECRET);
  const dynamo = await sharedDynamo();
  const tableName = "events-lambda";
  await ensureTable(dynamo.client, tableName);
  const store = new DynamoGrantStore({ client: dynamo.client, tableName });
  const events = {
    github: { secret: { secretArn: SECRET_ARN }, issuers: ["test"] },
    findings: { minSeverity: 4, signal: "finding" },
  };
  broker = await createTestBroker({ store, config: (i) => baseConfig(i, { events }) });
  broker.clock.set(Date.now());
  const dir = mkdtempSync(join(tmpdir(), "cb-events-lambda-"));
  writeFileSync(
    join(dir, "credbroker.config.json"),
    // As synth writes it: the validated config, the compiled policies and their version (lib/config/shipped.ts).
    JSON.stringify(
      toConfigBundle(
        resolveConfig(
          baseConfig(broker.issuer, { events }),
          [{ file: "policies/test.cedar", text: BASE_POLICIES }],
          "test",
        ),
      ),
    ),
  );
  Object.assign(process.env, {
    LAMBDA_TASK_ROOT: dir,
    CREDBROKER_TABLE: tableName,
    CREDBROKER_CONFIG_BUNDLE: "credbroker.config.json",
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint,
  });
  handler = (await import("../../lambdas/events.ts")).handler;
});
afterAll(async () => {
  process.env = saved;
  await sm?.close();
  await closeSharedDynamo();
});

async function webhook(
  payload: unknown,
  signature?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = JSON.stringify(payload);
  const result = (await handler({
    version: "2.0",
    routeKey: "POST /events/github",
    rawPath: "/events/github",
    headers: {
      "content-type": "application/json",
      "x-github-event": "workflow_job",
      "x-github-delivery": newDeliveryId(),
      "x-hub-signature-256": signature ?? (await sign(GITHUB_SECRET, body)),
    },
    body,
    isBase64Encoded: false,
    requestContext: {
      requestId: "req-lambda",
      http: { method: "POST", path: "/events/github", sourceIp: "192.30.252.1" },
    },
  })) as HttpResult;
  return { status: result.statusCode, body: JSON.parse(result.body) };
}

describe("the events Lambda", () => {
  it("ends a completed job's grants with the secret read from Secrets Manager, and refuses a bad signature", async () => {
    const token = await broker.issuer.mint(EXAMPLE_JOB_CLAIMS, { nowMs: broker.clock.now() });
    const grant = (await broker.exchange(token)).body["grant_id"] as string;
    const payload = githubExample("workflow_job", "completed");
    expect(await webhook(payload, `sha256=${"f".repeat(64)}`)).toMatchObject({ status: 401 });
    expect(await broker.store.getGrant(grant)).toMatchObject({ status: "active" });
    expect(await webhook(payload)).toEqual({ status: 200, body: { ended: 1, grants: [grant] } });
    // Read once, then kept: not a Secrets Manager call per delivery.
    expect(sm.calls.filter((c) => c.secretId === SECRET_ARN)).toHaveLength(1);
  });

  it("handles a GuardDuty finding from the EventBridge rule", async () => {
    const token = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: broker.clock.now() });
    const grant = (await broker.exchange(token)).body["grant_id"] as string;
    const result = (await handler({
      version: "0",
      id: "eb-1",
      "detail-type": "GuardDuty Finding",
      source: "aws.guardduty",
      detail: {
        id: "gd-lambda-1",
        type: "CredentialAccess:IAMUser/AnomalousBehavior",
        severity: 5,
        resource: {
          accessKeyDetails: {
            principalId: `AROAQEXAMPLEROLEID:cb-${grant}`,
            accessKeyId: "ASIAQEXAMPLE22222222",
          },
        },
      },
    })) as { findings: { outcome: string; grants: string[] }[] };
    expect(result.findings).toEqual([expect.objectContaining({ outcome: "revoked", grants: [grant] })]);
    expect(await broker.store.getSignals("web-ci")).toEqual({
      finding: "CredentialAccess:IAMUser/AnomalousBehavior",
    });
  });

  it("answers 404 on a path it does not serve", async () => {
    const result = (await handler({
      rawPath: "/events/bitbucket",
      requestContext: {
        requestId: "r",
        http: { method: "POST", path: "/events/bitbucket", sourceIp: "1.2.3.4" },
      },
    })) as HttpResult;
    expect(result.statusCode).toBe(404);
  });
});
