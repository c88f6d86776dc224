// The console's approvals view lists the pending requests of the broker's own table (CONTRACT §10/§11),
// read through the same approvals store `GET /approvals` reads.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningConsole, startConsole } from "../../lib/console/server/start.ts";
import { type ApprovalBroker, createApprovalBroker } from "../approvals/support.ts";

let broker: ApprovalBroker;
let running: RunningConsole;
let cookie: string;

beforeAll(async () => {
  broker = await createApprovalBroker();
  running = await startConsole({ ...broker.deps, table: "console-approvals" }, 0);
  const first = await fetch(running.url, { redirect: "manual" });
  cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
});
afterAll(async () => {
  await running?.close();
});

const view = async (path: string) => {
  const res = await fetch(new URL(path, running.url), { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};

describe("the console's approvals view", () => {
  it("lists a pending request with its workload, task and purpose, and drops it once it is denied", async () => {
    const pending = await broker.request(await broker.workloadToken());
    expect(pending.body["error"]).toBe("authorization_pending");
    const id = pending.body["approval_id"] as string;

    const listed = await view("/approvals");
    expect(listed.status).toBe(200);
    expect(listed.html).toContain(id);
    expect(listed.html).toContain("rotate-db");
    expect(listed.html).toContain("rotate after leak");

    const denied = await broker.approve(id, await broker.approverToken("alice"), "deny", "not now");
    expect(denied.body["status"]).toBe("denied");
    expect((await view("/approvals")).html).not.toContain(id);
  });
});
