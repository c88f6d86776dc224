// Issue 27: free text that people read before they decide (a purpose, an approval reason) may hold nothing
// that disguises it: bidi overrides, C1 controls, zero-width characters, newlines. Such text is refused
// with invalid_request, and stored text is printed escaped.
import { afterAll, describe, expect, it } from "vitest";
import { table } from "../../lib/cli/io.ts";
import { escapeUnsafeText } from "../../lib/core/text.ts";
import { createApprovalBroker } from "../approvals/support.ts";
import { closeSharedDynamo } from "../support/broker.ts";

afterAll(closeSharedDynamo);

const DISGUISES = [
  ["a right-to-left override (U+202E)", "rotate \u202Eegnahc ot kcab"],
  ["a C1 control sequence introducer (U+009B)", "rotate \u009b2J"],
  ["a zero-width space (U+200B)", "rot\u200bate"],
  ["a newline", "rotate\napproved by: security"],
  ["a first strong isolate (U+2068)", "rotate \u2068x"],
];

describe("a purpose", () => {
  it.each(DISGUISES)(
    "with %s is refused with invalid_request, and nothing is requested",
    async (_, purpose) => {
      const b = await createApprovalBroker({ approvals: 1 });
      const res = await b.request(await b.workloadToken(), { purpose });
      expect(res.status).toBe(400);
      expect(res.body["error"]).toBe("invalid_request");
      expect(res.body["error_description"]).toMatch(/purpose/);
      const approver = await b.approverToken("alice");
      const listed = await b.approvalsCall("GET", "/approvals", { token: approver });
      expect(listed.body["approvals"]).toEqual([]);
    },
  );

  it("in plain words, accents and emoji included, is accepted", async () => {
    const b = await createApprovalBroker({ approvals: 1 });
    const res = await b.request(await b.workloadToken(), { purpose: "rotation après l'incident 42 ✅" });
    expect(res.body["error"]).toBe("authorization_pending");
  });
});

describe("an approval's reason", () => {
  it.each(DISGUISES)("with %s is refused with invalid_request, and not counted", async (_, reason) => {
    const b = await createApprovalBroker({ approvals: 1 });
    const asked = await b.request(await b.workloadToken());
    const id = asked.body["approval_id"] as string;
    const res = await b.approve(id, await b.approverToken("alice"), "approve", reason);
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect((await b.store.approvals.get(id))?.votes).toEqual([]);
  });
});

describe("stored text printed by the CLI", () => {
  it("shows each unsafe character as an escape, never the character itself", () => {
    const printed = table([{ purpose: "a\u202Eb\u009bc\nd" }], ["purpose"]);
    expect(printed).toContain("a\\u{202e}b\\u{009b}c\\u{000a}d");
    expect(printed).not.toMatch(/[\u202e\u009b]/);
    expect(escapeUnsafeText("plain text ✅")).toBe("plain text ✅");
  });
});

describe("GET /approvals", () => {
  it("lists only the requests this approver may decide", async () => {
    const b = await createApprovalBroker({ approvals: 1 });
    const asked = await b.request(await b.workloadToken());
    const id = asked.body["approval_id"] as string;
    const sre = await b.approvalsCall("GET", "/approvals", { token: await b.approverToken("alice") });
    expect((sre.body["approvals"] as { approvalId: string }[]).map((a) => a.approvalId)).toEqual([id]);
    // Not in the sre group: no approve policy permits them, so they see nothing of it.
    const outsider = await b.approverToken("mallory", { groups: ["dev"] });
    const listed = await b.approvalsCall("GET", "/approvals", { token: outsider });
    expect(listed.status).toBe(200);
    expect(listed.body["approvals"]).toEqual([]);
    expect((await b.approvalsCall("GET", `/approvals/${id}`, { token: outsider })).status).toBe(404);
    // The owning team's own approver is forbidden too.
    const own = await b.approverToken("bob", { email: "team-web@acme.test" });
    expect((await b.approvalsCall("GET", "/approvals", { token: own })).body["approvals"]).toEqual([]);
  });
});
