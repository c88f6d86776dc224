// Figure 1: what the broker adds to the path to a credential. The broker path is POST /token through the
// dev server; the baseline is the I/O a grant cannot avoid, made directly with the SDK against the same
// dynalite and the same STS fixture: the grant's PutItem and UpdateItem and one AssumeRole. A second
// baseline adds the broker's other I/O (the signals read and the audit write). All are interleaved in blocks
// so that machine noise falls on all of them alike. dynalite and the fixture run in their own process
// (bench/services.ts), as AWS runs apart from a Lambda, so the broker and the baselines wait for their I/O.
//
// CONTRACT §12's figure, `issueOverheadRatioAllIo`, is the token handler (the Lambda's path, no HTTP) over
// the I/O the broker must await, measured in the same run: the signals GetItem, the grant PutItem and
// AssumeRole one after another, then the grant's activation UpdateItem and the audit PutItem in parallel,
// with items copied from what the broker wrote. `issueHttpOverheadRatioAllIo` is the dev server's HTTP
// path over the same baseline, and `issueHttpFloorRatio` the same I/O behind the same HTTP layer: the part
// of that ratio the HTTP hop takes by itself.

import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import {
  type AttributeValue,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { AUDIT_SHARDS, auditKey } from "../lib/aws/audit-partitions.ts";
import { jsonResult } from "../lib/http/apigw.ts";
import { createHandlers } from "../lib/http/handlers.ts";
import { localDynamoClient } from "../lib/local/dynalite.ts";
import { serve } from "../lib/local/http-adapter.ts";
import type { BenchBroker } from "./harness.ts";
import { ROLE_ARN } from "./harness.ts";
import { median, quantile, round, timeMs } from "./stats.ts";

export interface IssuePathFigures {
  issueOverheadRatio: number;
  issueP50Ms: number;
  issueP99Ms: number;
  rawCallsP50Ms: number;
  /** The baseline plus the signals GetItem and the audit PutItem, one after another. */
  rawAllCallsP50Ms: number;
  /** CONTRACT §12: the token handler p50 over rawAllIoP50Ms. */
  issueOverheadRatioAllIo: number;
  issueRequests: number;
  /** Which task the broker path issued: aws-sts, or jwt while the aws-sts provider is not wired. */
  issueTask: "aws-sts" | "jwt";
  /**
   * The same request handed straight to the token handler (the Lambda's path, no HTTP server or client):
   * what the broker's own work plus its I/O costs without the local HTTP hop the broker path includes.
   */
  issueHandlerP50Ms: number;
  issueHandlerOverheadRatioAllIo: number;
  /** CONTRACT §12's baseline: signals, grant put, AssumeRole, then activation and audit put in parallel. */
  rawAllIoP50Ms: number;
  /**
   * POST /token through the dev server with the HTTP client in a separate process (bench/load-generator.ts),
   * one request at a time, timed by that client: the dev server's HTTP path without the client's own CPU.
   */
  issueHttpP50Ms: number;
  /** CONTRACT §12 for the dev server's HTTP path: issueHttpP50Ms over rawAllIoP50Ms. */
  issueHttpOverheadRatioAllIo: number;
  /**
   * The floor's I/O behind the dev server's HTTP layer (lib/local/http-adapter.ts), answering with a token
   * response's body, timed by the same client in the same blocks: what the HTTP hop alone adds to the I/O.
   */
  rawAllIoHttpP50Ms: number;
  /** rawAllIoHttpP50Ms over rawAllIoP50Ms: the least issueHttpOverheadRatioAllIo can be with this HTTP hop. */
  issueHttpFloorRatio: number;
  /**
   * CONTRACT §18: the HTTP path read against its own floor, issueHttpP50Ms over rawAllIoHttpP50Ms (the same
   * HTTP hop in front of the bare I/O): what the broker adds once the hop is paid for.
   */
  issueHttpOverBrokerFloorRatio: number;
  /** Where dynalite and the STS fixture ran: their own process (as AWS runs apart) or the broker's. */
  issueServices: "process" | "inline";
}

export async function benchIssuePath(
  broker: BenchBroker,
  options: { requests?: number; warmup?: number } = {},
): Promise<IssuePathFigures> {
  const requests = options.requests ?? 2_000;
  const warmup = options.warmup ?? 200;
  const task = broker.hasAwsSts ? "deploy-web" : "read-reports";
  const tokens = await broker.mintTokens(3 * requests + 2 * warmup + 1);
  const client = fork(fileURLToPath(new URL("./load-generator.ts", import.meta.url)), [], {
    execPath: process.execPath,
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const remoteBlock = (list: string[], url = broker.dev.url) =>
    new Promise<number[]>((resolve, reject) => {
      client.once("message", (m: { ms?: number[]; error?: string }) =>
        m.ms ? resolve(m.ms) : reject(new Error(`HTTP client: ${m.error}`)),
      );
      client.send({ url, task, tokens: list });
    });
  const remoteBase = 2 * requests + warmup;
  const handlers = createHandlers(broker.dev.deps);

  const ddb = localDynamoClient(broker.dev.dynamo.endpoint);
  const sts = new STSClient({ ...broker.services.aws.clientConfig, maxAttempts: 1 });
  const table = broker.dev.tableName;

  let issued = 0;
  const brokerOnce = async (i: number) => {
    const status = await broker.exchange(tokens[i]!, task);
    if (status !== 200) throw new Error(`POST /token answered ${status}`);
    issued++;
  };
  let tokenResponse: unknown;
  const handlerOnce = async (i: number) => {
    const body = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: tokens[i]!,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: task,
    }).toString();
    const res = await handlers.token({
      rawPath: "/token",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      isBase64Encoded: false,
      requestContext: { http: { method: "POST", path: "/token", sourceIp: "127.0.0.1" } },
    });
    if (res.statusCode !== 200) throw new Error(`token handler answered ${res.statusCode}`);
    tokenResponse ??= JSON.parse(res.body);
  };
  // Warm up the broker first: it also leaves a real grant item to copy for the baseline.
  for (let i = 0; i < warmup; i++) await brokerOnce(i);
  const template = await grantTemplate(ddb, table);
  const audit = await auditTemplate(ddb, table);

  let n = 0;
  const rawOnce = async (all: boolean) => {
    const id = `raw-${process.pid}-${n++}`;
    const key = { pk: { S: `GRANT#${id}` }, sk: { S: "GRANT" } };
    if (all)
      await ddb.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: "SIGNALS#web-ci" }, sk: { S: "SIGNALS" } } }),
      );
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...template, ...key, grantId: { S: id }, status: { S: "issuing" } },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    if (broker.hasAwsSts) {
      await sts.send(
        new AssumeRoleCommand({
          RoleArn: ROLE_ARN,
          RoleSessionName: `cb-${id}`.slice(0, 64),
          DurationSeconds: 900,
          SourceIdentity: "web-ci",
          Policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Action: ["s3:PutObject"],
                Resource: `arn:aws:s3:::acme-web/acme/web/${id}/*`,
              },
            ],
          }),
          Tags: [
            { Key: "credbroker-grant", Value: id },
            { Key: "credbroker-workload", Value: "web-ci" },
            { Key: "credbroker-task", Value: "deploy-web" },
          ],
          TransitiveTagKeys: ["credbroker-grant"],
        }),
      );
    }
    await ddb.send(
      new UpdateItemCommand({
        TableName: table,
        Key: key,
        UpdateExpression: "SET #status = :active, #exp = :exp, #duePk = :duePk, #dueSk = :dueSk",
        ConditionExpression: "attribute_exists(pk) AND #status = :issuing",
        ExpressionAttributeNames: {
          "#status": "status",
          "#exp": "expiresAt",
          "#duePk": "duePk",
          "#dueSk": "dueSk",
        },
        ExpressionAttributeValues: {
          ":active": { S: "active" },
          ":issuing": { S: "issuing" },
          ":exp": { S: new Date(Date.now() + 900_000).toISOString() },
          ":duePk": { S: "DUE#3" },
          ":dueSk": { S: `${Date.now() + 900_000}#${id}` },
        },
        ReturnValues: "ALL_NEW",
      }),
    );
    if (all) {
      const now = new Date().toISOString();
      const key = auditKey({ time: now, eventId: id }, AUDIT_SHARDS);
      await ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            pk: { S: key.pk },
            sk: { S: key.sk },
            type: { S: "audit" },
            kind: { S: "token" },
            outcome: { S: "issue" },
            grantId: { S: id },
            workload: { S: "web-ci" },
            task: { S: "deploy-web" },
            gsi1pk: { S: "WA#web-ci" },
            gsi1sk: { S: `${now}#${id}` },
          },
        }),
      );
    }
  };
  const assumeRole = (id: string) =>
    sts.send(
      new AssumeRoleCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: `cb-${id}`.slice(0, 64),
        DurationSeconds: 900,
        SourceIdentity: "web-ci",
        Policy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Action: ["s3:PutObject"], Resource: `arn:aws:s3:::acme-web/acme/web/${id}/*` },
          ],
        }),
        Tags: [
          { Key: "credbroker-grant", Value: id },
          { Key: "credbroker-workload", Value: "web-ci" },
          { Key: "credbroker-task", Value: "deploy-web" },
        ],
        TransitiveTagKeys: ["credbroker-grant"],
      }),
    );
  // §12's baseline, with the broker's own items: the activation sets what the broker's sets (status, expiry,
  // access key id, due keys, write id) and asks for nothing back; the audit item is a copy of one the broker
  // stored, under fresh keys.
  const rawAllIoOnce = async () => {
    const id = `rawio-${process.pid}-${n++}`;
    const key = { pk: { S: `GRANT#${id}` }, sk: { S: "GRANT" } };
    await ddb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: "SIGNALS#web-ci" }, sk: { S: "SIGNALS" } } }),
    );
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: { ...template, ...key, grantId: { S: id }, status: { S: "issuing" } },
        ConditionExpression: "attribute_not_exists(pk)",
      }),
    );
    if (broker.hasAwsSts) await assumeRole(id);
    const now = new Date().toISOString();
    const auditPk = auditKey({ time: now, eventId: id }, AUDIT_SHARDS);
    await Promise.all([
      ddb.send(
        new UpdateItemCommand({
          TableName: table,
          Key: key,
          UpdateExpression: "SET #f0 = :v0, #f1 = :v1, #f2 = :v2, #f3 = :v3, #f4 = :v4, #f5 = :v5",
          ConditionExpression: "attribute_exists(pk) AND #status = :expected",
          ExpressionAttributeNames: {
            "#status": "status",
            "#f0": "expiresAt",
            "#f1": "accessKeyId",
            "#f2": "status",
            "#f3": "duePk",
            "#f4": "dueSk",
            "#f5": "writeId",
          },
          ExpressionAttributeValues: {
            ":expected": { S: "issuing" },
            ":v0": { S: new Date(Date.now() + 900_000).toISOString() },
            ":v1": { S: "ASIAEXAMPLEEXAMPLE00" },
            ":v2": { S: "active" },
            ":v3": { S: "DUE#3" },
            ":v4": { S: `${Date.now() + 900_000}#${id}` },
            ":v5": { S: "00000000-0000-4000-8000-000000000000" },
          },
        }),
      ),
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            ...audit,
            pk: { S: auditPk.pk },
            sk: { S: auditPk.sk },
            eventId: { S: id },
            grantId: { S: id },
            time: { S: now },
            gsi1sk: { S: `${now}#${id}` },
            liveSk: { S: `${now}#${id}` },
          },
        }),
      ),
    ]);
  };
  await handlerOnce(remoteBase + warmup + requests);
  // The HTTP hop's own floor: the same server code as the dev server's, around the raw I/O.
  const hop = createServer(
    serve(async () => {
      await rawAllIoOnce();
      return jsonResult(200, tokenResponse);
    }),
  );
  await new Promise<void>((r) => hop.listen(0, "127.0.0.1", () => r()));
  const hopUrl = `http://127.0.0.1:${(hop.address() as AddressInfo).port}`;
  for (let i = 0; i < warmup; i++) {
    await rawOnce(false);
    await rawOnce(true);
    await rawAllIoOnce();
  }
  await remoteBlock(tokens.slice(remoteBase, remoteBase + warmup));
  await remoteBlock(tokens.slice(remoteBase, remoteBase + warmup), hopUrl);

  const brokerMs: number[] = [];
  const rawMs: number[] = [];
  const rawAllMs: number[] = [];
  const handlerMs: number[] = [];
  const rawAllIoMs: number[] = [];
  const httpMs: number[] = [];
  const hopMs: number[] = [];
  const block = 100;
  for (let done = 0; done < requests; done += block) {
    for (let i = done; i < Math.min(requests, done + block); i++)
      brokerMs.push(await timeMs(() => brokerOnce(warmup + i)));
    for (let i = done; i < Math.min(requests, done + block); i++)
      rawMs.push(await timeMs(() => rawOnce(false)));
    for (let i = done; i < Math.min(requests, done + block); i++)
      rawAllMs.push(await timeMs(() => rawOnce(true)));
    for (let i = done; i < Math.min(requests, done + block); i++)
      handlerMs.push(await timeMs(() => handlerOnce(warmup + requests + i)));
    for (let i = done; i < Math.min(requests, done + block); i++) rawAllIoMs.push(await timeMs(rawAllIoOnce));
    const from = remoteBase + warmup + done;
    httpMs.push(...(await remoteBlock(tokens.slice(from, from + Math.min(block, requests - done)))));
    hopMs.push(...(await remoteBlock(tokens.slice(from, from + Math.min(block, requests - done)), hopUrl)));
  }
  hop.close();
  ddb.destroy();
  sts.destroy();
  client.send("exit");

  const issueP50 = median(brokerMs);
  return {
    issueOverheadRatio: round(issueP50 / median(rawMs), 3),
    issueP50Ms: round(issueP50, 3),
    issueP99Ms: round(quantile(brokerMs, 0.99), 3),
    rawCallsP50Ms: round(median(rawMs), 3),
    rawAllCallsP50Ms: round(median(rawAllMs), 3),
    issueOverheadRatioAllIo: round(median(handlerMs) / median(rawAllIoMs), 3),
    issueRequests: issued - warmup,
    issueTask: broker.hasAwsSts ? "aws-sts" : "jwt",
    issueHandlerP50Ms: round(median(handlerMs), 3),
    issueHandlerOverheadRatioAllIo: round(median(handlerMs) / median(rawAllMs), 3),
    rawAllIoP50Ms: round(median(rawAllIoMs), 3),
    issueHttpP50Ms: round(median(httpMs), 3),
    issueHttpOverheadRatioAllIo: round(median(httpMs) / median(rawAllIoMs), 3),
    rawAllIoHttpP50Ms: round(median(hopMs), 3),
    issueHttpFloorRatio: round(median(hopMs) / median(rawAllIoMs), 3),
    issueHttpOverBrokerFloorRatio: round(median(httpMs) / median(hopMs), 3),
    issueServices: broker.services.where,
  };
}

/** A grant item exactly as the broker wrote it, to give the baseline PutItem the same size and shape. */
async function grantTemplate(
  ddb: ReturnType<typeof localDynamoClient>,
  table: string,
): Promise<Record<string, AttributeValue>> {
  let key: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: key, Limit: 50 }));
    const grant = page.Items?.find((item) => item["sk"]?.S === "GRANT");
    if (grant) return grant;
    key = page.LastEvaluatedKey;
  } while (key);
  throw new Error("no grant item found after warm-up");
}

/** An audit event exactly as the broker stored it for an issue, for the baseline's audit PutItem. */
async function auditTemplate(
  ddb: ReturnType<typeof localDynamoClient>,
  table: string,
): Promise<Record<string, AttributeValue>> {
  let key: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: key, Limit: 50 }));
    const event = page.Items?.find((item) => item["type"]?.S === "audit" && item["outcome"]?.S === "issue");
    if (event) return event;
    key = page.LastEvaluatedKey;
  } while (key);
  throw new Error("no audit event found after warm-up");
}
