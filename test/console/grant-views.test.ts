// The console's grant list and grant page as a user reads them: every workload's grants newest first, page
// after page, and a grant issued after an approval says who approved it, with the approval in its trail.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_SIZE } from "../../lib/console/server/grant-listing.ts";
import { type RunningConsole, startConsole } from "../../lib/console/server/start.ts";
import { type ApprovalBroker, createApprovalBroker } from "../approvals/support.ts";
import { closeSharedDynamo } from "../support/broker.ts";

let broker: ApprovalBroker;
let running: RunningConsole;
let cookie: string;

beforeAll(async () => {
  broker = await createApprovalBroker({ approvals: 1 });
  running = await startConsole({ ...broker.deps, table: "console-grant-views" }, 0);
  const first = await fetch(running.url, { redirect: "manual" });
  cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
});
afterAll(async () => {
  await running?.close();
  await closeSharedDynamo();
});

const view = async (path: string) => {
  const res = await fetch(new URL(path, running.url), { headers: { cookie } });
  return { status: res.status, html: await res.text() };
};
/** The grant ids of a grants page, top to bottom. */
const listed = (html: string) =>
  [...html.matchAll(/<a href="[^"]*grants\/([0-9a-z]{26})">/g)].map((m) => m[1]!);
const nextLink = (html: string) => /id="next-page" href="([^"]+)"/.exec(html)?.[1]?.replaceAll("&amp;", "&");

describe("the console's grant list", () => {
  it("lists every workload's grants newest first, across pages", async () => {
    const issued: string[] = [];
    // Two workloads taking turns, a minute apart: more than a page of them.
    for (let i = 0; i < PAGE_SIZE + 5; i++) {
      const sub = i % 2 === 0 ? "repo:acme/web:ref:refs/heads/main" : "repo:acme/other:ref:refs/heads/main";
      const res = await broker.exchange(
        await broker.issuer.mint({ sub, repository: "acme/web" }, { nowMs: broker.clock.now() }),
      );
      expect(res.status).toBe(200);
      issued.push(res.body["grant_id"] as string);
      broker.clock.advance(60_000);
    }
    const first = await view("/grants");
    expect(first.status).toBe(200);
    const shown = listed(first.html);
    const more = nextLink(first.html);
    expect(more).toBeDefined();
    shown.push(...listed((await view(more!)).html));
    expect(shown.slice(0, issued.length)).toEqual([...issued].reverse());
  });
});

describe("a grant issued after an approval", () => {
  it("shows who approved it, and the approval's request and decision in its trail", async () => {
    const pending = await broker.request(await broker.workloadToken());
    const id = pending.body["approval_id"] as string;
    broker.clock.advance(30_000);
    const approved = await broker.approve(id, await broker.approverToken("alice"), "approve", "ticket OPS-7");
    expect(approved.body["status"]).toBe("approved");
    broker.clock.advance(10_000);
    const ok = await broker.request(await broker.workloadToken(), { approval_id: id });
    expect(ok.status).toBe(200);
    const page = await view(`/grants/${ok.body["grant_id"]}`);
    expect(page.status).toBe(200);
    const said = /<p id="grant-approval">([\s\S]*?)<\/p>/.exec(page.html)?.[1]?.replace(/<[^>]+>/g, "");
    expect(said).toContain(`Issued after approval ${id}`);
    expect(said).toContain("approved by alice (corp,");
    expect(said).toContain("ticket OPS-7");
    const trail = page.html.slice(page.html.indexOf("<h2>Audit trail</h2>"));
    const rows = [...trail.matchAll(/<tr data-event-id="[^"]+"[^>]*><td>[^<]*<\/td><td>([a-z]+)<\/td>/g)].map(
      (m) => m[1],
    );
    // Newest first: the issue, the approval, the request.
    expect(rows).toEqual(["issue", "approve", "pending"]);
    expect(trail).toContain("alice (corp)");
  });
});
