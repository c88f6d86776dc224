// The announcement of a new request (CONTRACT §10): sent once the record is durable, once per request,
// Slack-compatible, and never in the way when the receiver is down or slow.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closeSharedDynamo } from "../support/broker.ts";
import { createApprovalBroker } from "./support.ts";

afterAll(closeSharedDynamo);

interface Receiver {
  url: string;
  bodies: unknown[];
  server: Server;
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function receiver(
  respond: (req: IncomingMessage, body: string) => Promise<number> | number = () => 200,
): Promise<Receiver> {
  const bodies: unknown[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    bodies.push(JSON.parse(body));
    const status = await respond(req, body);
    res.writeHead(status).end("ok");
  });
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, bodies, server };
}

describe("the approval webhook", () => {
  it("posts one Slack-compatible text naming workload, owner, task, purpose, approval id and how to approve", async () => {
    const hook = await receiver();
    const b = await createApprovalBroker({ webhookUrl: hook.url });
    const first = await b.request(await b.workloadToken());
    const id = first.body["approval_id"] as string;
    expect(hook.bodies).toHaveLength(1);
    const { text } = hook.bodies[0] as { text: string };
    expect(Object.keys(hook.bodies[0] as object)).toEqual(["text"]);
    for (const part of [
      "web-ci",
      "team-web@acme.test",
      "rotate-db",
      "rotate after leak",
      id,
      "corp",
      "credbroker approvals approve",
    ])
      expect(text).toContain(part);
    // The same pending request again: no second notification.
    b.clock.advance(1000);
    await b.request(await b.workloadToken());
    expect(hook.bodies).toHaveLength(1);
  });

  it("announces one request when several identical requests arrive at once, and all get its id", async () => {
    const hook = await receiver();
    const b = await createApprovalBroker({ webhookUrl: hook.url });
    const token = await b.workloadToken();
    const answers = await Promise.all([1, 2, 3, 4].map(() => b.request(token)));
    const ids = new Set(answers.map((a) => a.body["approval_id"]));
    expect(answers.every((a) => a.body["error"] === "authorization_pending")).toBe(true);
    expect(ids.size).toBe(1);
    expect(hook.bodies).toHaveLength(1);
    expect((await b.store.approvals.listPending()).map((r) => r.approvalId)).toEqual([...ids]);
  });

  it("escapes Slack markup in a purpose the workload wrote", async () => {
    const hook = await receiver();
    const b = await createApprovalBroker({ webhookUrl: hook.url });
    await b.request(await b.workloadToken(), { purpose: "<!channel> <https://evil.test|click>" });
    const { text } = hook.bodies[0] as { text: string };
    expect(text).not.toContain("<!channel>");
    expect(text).toContain("&lt;!channel&gt;");
  });

  it("still records and answers the request when the receiver is down, and logs the failure without the URL", async () => {
    const hook = await receiver();
    const url = hook.url;
    hook.server.close();
    hook.server.closeAllConnections();
    const b = await createApprovalBroker({ webhookUrl: url });
    const res = await b.request(await b.workloadToken());
    expect(res.body["error"]).toBe("authorization_pending");
    expect(await b.store.approvals.get(res.body["approval_id"] as string)).toMatchObject({
      status: "pending",
    });
    expect(b.logs.some((l) => l.includes("approval webhook unreachable"))).toBe(true);
    expect(b.logs.join("\n")).not.toContain(url);
  });

  it("logs a receiver that refuses the message, and the request goes on", async () => {
    const hook = await receiver(() => 500);
    const b = await createApprovalBroker({ webhookUrl: hook.url });
    const res = await b.request(await b.workloadToken());
    expect(res.body["error"]).toBe("authorization_pending");
    expect(b.logs.some((l) => l.includes("approval webhook refused the message") && l.includes("500"))).toBe(
      true,
    );
  });

  it("sends only after the request is durable: the receiver can already see it", async () => {
    let seen: unknown;
    let b: Awaited<ReturnType<typeof createApprovalBroker>> | undefined;
    const hook = await receiver(async (_req, body) => {
      const id = /`([0-9a-z]{26})`/.exec((JSON.parse(body) as { text: string }).text)?.[1];
      seen = id ? await b?.store.approvals.get(id) : undefined;
      return 200;
    });
    b = await createApprovalBroker({ webhookUrl: hook.url });
    await b.request(await b.workloadToken());
    expect(seen).toMatchObject({ status: "pending" });
  });
});
