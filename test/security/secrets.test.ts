// Secrets never rest anywhere: after a mixed run — jwt and aws-sts issuance, denials, hostile tokens,
// introspection, self-release, STS and DynamoDB failures, a sweep — no raw subject token, issued JWT,
// secret access key or session token appears in a log line, an audit event or any DynamoDB item.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { sweepDue } from "../../lib/core/sweep.ts";
import { createStsBroker, deployRequest } from "../aws-sts/support.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { NOW, sharedDynamo, type TestBroker } from "../support/broker.ts";
import { rawJwt } from "./helpers.ts";

let aws: AwsQueryServer;
let broker: TestBroker;
const tableName = `secrets${process.pid}`;
const secrets = new Set<string>();

beforeAll(async () => {
  aws = await startAwsQueryServer({ now: () => NOW });
  const dynamo = await sharedDynamo();
  await ensureTable(dynamo.client, tableName);
  broker = await createStsBroker(aws, {
    store: new DynamoGrantStore({ client: dynamo.client, tableName }),
    maxAttempts: 1,
  });
});
afterAll(() => aws?.close());

const mint = async (claims: Record<string, unknown> = {}) => {
  const token = await broker.issuer.mint({ repository: "acme/web", ...claims }, { nowMs: NOW });
  secrets.add(token);
  return token;
};

function keep(body: Record<string, unknown>) {
  if (typeof body["access_token"] === "string") secrets.add(body["access_token"]);
  const creds = body["credentials"] as Record<string, string> | undefined;
  if (creds) {
    secrets.add(creds["SecretAccessKey"]!);
    secrets.add(creds["SessionToken"]!);
  }
}

describe("secrets in logs, audit and DynamoDB", () => {
  it("a mixed run leaves no token, key or session token at rest", async () => {
    // Issued: jwt and aws-sts.
    for (let i = 0; i < 3; i++) {
      const jwt = await broker.exchange(await mint());
      expect(jwt.status).toBe(200);
      keep(jwt.body);
      const sts = await broker.call("token", deployRequest(await mint()));
      expect(sts.status).toBe(200);
      keep(sts.body);
    }
    // Denied, hostile and malformed subject tokens.
    const hostile = [
      await mint({ sub: "repo:acme/old:x" }),
      await mint({ aud: "other" }),
      await mint({ repository: "acme/evil" }),
      rawJwt({ alg: "none" }, { iss: broker.issuer.issuer, sub: "x", aud: "credbroker" }),
      `${await mint()}tampered`,
    ];
    for (const t of hostile) {
      secrets.add(t);
      const res = await broker.exchange(t);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    // A subject token sent as the wrong parameter, and in a JSON body.
    await broker.call("token", { grant_type: "x", subject_token: await mint() });
    await broker.call("token", JSON.stringify({ subject_token: await mint(), scope: "read-reports" }), {
      headers: { "content-type": "application/json" },
    });
    // Upstream failures: STS throttling and a 500, logged in detail server-side.
    aws.failNext("AssumeRole", { code: "Throttling", status: 400, times: 5 });
    expect((await broker.call("token", deployRequest(await mint()))).status).toBe(503);
    aws.failNext("AssumeRole", { code: "InternalFailure", status: 500, times: 5 });
    expect((await broker.call("token", deployRequest(await mint()))).status).toBe(503);
    // Introspection and self-release with the issued tokens.
    const issued = await broker.exchange(await mint());
    keep(issued.body);
    await broker.call("introspect", { token: issued.body["access_token"] as string });
    await broker.call("introspect", { token: `${issued.body["access_token"]}x` });
    await broker.call("revoke", {
      token: issued.body["access_token"] as string,
      subject_token: await mint(),
    });
    await broker.call("revoke", {
      token: issued.body["access_token"] as string,
      subject_token: "not-a-token",
    });
    // The sweep expires and revokes what is due.
    broker.clock.advance(3_700_000);
    await sweepDue(broker.deps, { budgetMs: 10_000 });

    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await (await sharedDynamo()).client.send(
        new ScanCommand({ TableName: tableName, ...(start ? { ExclusiveStartKey: start as never } : {}) }),
      );
      items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    const audit = (await broker.store.listAudit({ sinceMs: NOW - 1000, untilMs: NOW + 7_200_000 })).items;
    expect(audit.length).toBeGreaterThan(15);
    expect(items.length).toBeGreaterThan(audit.length);

    const haystacks = [
      ...broker.logs,
      ...items.map((i) => JSON.stringify(i)),
      ...audit.map((e) => JSON.stringify(e)),
    ];
    const leaks: string[] = [];
    for (const secret of secrets) {
      const signature = secret.split(".")[2];
      for (const text of haystacks) {
        if (text.includes(secret)) leaks.push(`whole ${secret.slice(0, 10)}…`);
        else if (signature && signature.length > 20 && text.includes(signature))
          leaks.push(`signature of ${secret.slice(0, 10)}…`);
      }
    }
    expect(secrets.size).toBeGreaterThan(25);
    expect(leaks).toEqual([]);
    // The subject token is recorded only as its SHA-256.
    expect(
      items.some(
        (i) =>
          typeof i["subjectTokenSha256"] === "string" &&
          /^[0-9a-f]{64}$/.test(i["subjectTokenSha256"] as string),
      ),
    ).toBe(true);
  });
});
