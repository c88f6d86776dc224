// Deliveries as GitHub and GitLab send them, against `credbroker dev` with an `events` section: real
// example payloads (@octokit/webhooks-examples), signed with the configured secret like GitHub signs them.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, request as httpRequest } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sign } from "@octokit/webhooks-methods";
import { type Logger, silentLogger } from "../../lib/core/logger.ts";
import { type DevBroker, startDev } from "../../lib/local/dev-server.ts";
import { awsProviders } from "../../lib/runtime/aws-providers.ts";
import type { AwsQueryServer } from "../fixtures/aws-query-server.ts";
import { demoConfigFor, freePort } from "../support/dev.ts";

const require = createRequire(import.meta.url);
const EXAMPLES = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];

/** A real example payload of a GitHub event (a deep copy), the first one with this action. */
export function githubExample(event: string, action?: string): Record<string, unknown> {
  const found = EXAMPLES.find((e) => e.name === event)?.examples.find(
    (x) => action === undefined || x["action"] === action,
  );
  if (!found) throw new Error(`no example ${event}.${action}`);
  return structuredClone(found);
}

export const GITHUB_SECRET_ENV = "CB_TEST_GITHUB_WEBHOOK_SECRET";
export const GITLAB_SECRET_ENV = "CB_TEST_GITLAB_WEBHOOK_TOKEN";
export const GITHUB_SECRET = "It's a Secret to Everybody";
export const GITLAB_SECRET = "gitlab-webhook-token-for-tests";

/** Adds entries (indented YAML) to the `events` section of a config file written by demoConfigFor. */
export async function addEvents(configPath: string, yaml: string): Promise<void> {
  const text = await readFile(configPath, "utf8");
  const line = /^events:.*\n/m.exec(text);
  await writeFile(
    configPath,
    line ? text.replace(line[0], `${line[0]}${yaml}`) : `${text}\nevents:\n${yaml}`,
  );
}

export interface Delivery {
  status: number;
  body: Record<string, unknown>;
}

let deliveries = 0;
export const newDeliveryId = () => `72d3162e-cc78-11e3-81ab-${String(++deliveries).padStart(12, "0")}`;

/** How a delivery travels: fetch by default; the load test brings a pooled node:http agent. */
export type Post = (
  url: string,
  headers: Record<string, string>,
  body: string,
) => Promise<{ status: number; text: string }>;

const fetchPost: Post = async (url, headers, body) => {
  const res = await fetch(url, { method: "POST", headers, body });
  return { status: res.status, text: await res.text() };
};

/** A Post over node:http with at most `sockets` connections: deliveries beyond them wait for one. */
export function pooledPost(sockets: number): Post & { close(): void } {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const post: Post = (url, headers, body) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(url, { method: "POST", agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  return Object.assign(post, { close: () => agent.destroy() });
}

export async function deliverGithub(
  dev: { url: string },
  event: string,
  payload: unknown,
  options: {
    id?: string;
    secret?: string;
    signature?: string | null;
    contentType?: string;
    raw?: string;
    post?: Post;
  } = {},
): Promise<Delivery & { id: string }> {
  const body = options.raw ?? JSON.stringify(payload);
  const id = options.id ?? newDeliveryId();
  const signature =
    options.signature === null
      ? undefined
      : (options.signature ?? (await sign(options.secret ?? GITHUB_SECRET, body)));
  const res = await (options.post ?? fetchPost)(
    `${dev.url}/events/github`,
    {
      "content-type": options.contentType ?? "application/json",
      "x-github-event": event,
      "x-github-delivery": id,
      "user-agent": "GitHub-Hookshot/044aadd",
      ...(signature ? { "x-hub-signature-256": signature } : {}),
    },
    body,
  );
  return { status: res.status, body: JSON.parse(res.text) as Record<string, unknown>, id };
}

export async function deliverGitlab(
  dev: { url: string },
  event: string,
  payload: unknown,
  options: { id?: string; token?: string | null } = {},
): Promise<Delivery & { id: string }> {
  const id = options.id ?? newDeliveryId();
  const token = options.token === null ? undefined : (options.token ?? GITLAB_SECRET);
  const res = await fetch(`${dev.url}/events/gitlab`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-gitlab-event": event,
      "x-gitlab-event-uuid": id,
      ...(token ? { "x-gitlab-token": token } : {}),
    },
    body: JSON.stringify(payload),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, id };
}

export async function exchange(dev: DevBroker, sub: string, claims: Record<string, unknown>, task: string) {
  const subject = await dev.devIssuer.mint({ sub, claims, audience: "credbroker", nowMs: Date.now() });
  const res = await fetch(`${dev.url}/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      subject_token: subject,
      scope: task,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, subject };
}

export async function statusOf(dev: DevBroker, grantId: string): Promise<string | undefined> {
  return (await dev.deps.store.getGrant(grantId))?.status;
}

export interface EventsDev {
  dev: DevBroker;
  dataDir: string;
  close(): Promise<void>;
}

const CREDENTIAL_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"];

/**
 * `credbroker dev` on the demo config with `events` added (the YAML under `events:`) and the webhook secrets
 * in `env`; with `aws`, its aws-sts tasks talk to that IAM/STS fixture and no credentials of the machine's
 * are used. `prepare` may change the config first (point the github task at a stand-in). `close` ends it all
 * and takes the variables back.
 */
export async function startEventsDev(o: {
  events: string;
  env: Record<string, string>;
  aws?: AwsQueryServer;
  log?: Logger;
  prepare?: (configPath: string, dataDir: string) => Promise<unknown>;
}): Promise<EventsDev> {
  const set = {
    ...o.env,
    ...(o.aws ? { AWS_ENDPOINT_URL_STS: o.aws.url, AWS_ENDPOINT_URL_IAM: o.aws.url } : {}),
  };
  for (const [k, v] of Object.entries(set)) process.env[k] = v;
  if (o.aws) for (const name of CREDENTIAL_VARS) delete process.env[name];
  const dataDir = await mkdtemp(join(tmpdir(), "cb-events-"));
  const port = await freePort();
  const configPath = await demoConfigFor(dataDir, port);
  await o.prepare?.(configPath, dataDir);
  await addEvents(configPath, o.events);
  const dev = await startDev({
    configPath,
    port,
    dynamoPort: 0,
    inMemory: true,
    dataDir,
    sweepIntervalSeconds: 0,
    log: o.log ?? silentLogger,
    ...(o.aws ? { providers: (r) => awsProviders(r) } : {}),
  });
  return {
    dev,
    dataDir,
    async close() {
      await dev.close();
      await rm(dataDir, { recursive: true, force: true });
      for (const k of Object.keys(set)) delete process.env[k];
    },
  };
}

/** A grant of `task` for a token of `sub` with these claims; the test fails unless it is issued. */
export async function issueGrant(
  dev: DevBroker,
  sub: string,
  claims: Record<string, unknown>,
  task: string,
): Promise<string> {
  const issued = await exchange(dev, sub, claims, task);
  if (issued.status !== 200) throw new Error(`issue of ${task} failed: ${JSON.stringify(issued.body)}`);
  return issued.body["grant_id"] as string;
}
