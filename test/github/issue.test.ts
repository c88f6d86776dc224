// Issuing github installation tokens (CONTRACT §8.1) against the loopback GitHub stand-in: what is sent,
// what is answered, and every refusal — each refusal leaves the grant failed (or never recorded) and no token.
import { describe, expect, it } from "vitest";
import { useGithubRig } from "./support.ts";

const rig = useGithubRig();

const posts = () => rig.github.calls.filter((c) => c.method === "POST");

describe("github token issuance", () => {
  it("issues a working installation token for exactly the rendered repositories and permissions", async () => {
    const before = posts().length;
    const res = await rig.issue("acme/web");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      issued_token_type: "urn:credbroker:token-type:github-token",
      token_type: "Bearer",
      scope: "push-docs",
      expires_in: 900,
      github: { repositories: ["web", "docs"], permissions: { contents: "write", pull_requests: "read" } },
    });
    expect(res.body["credentials"]).toBeUndefined();
    const token = res.body["access_token"] as string;
    expect(await rig.github.tokenWorks(token)).toBe(true);
    // One POST for the grant, with the names without the owner and the permissions as rendered.
    expect(posts().slice(before)).toEqual([
      expect.objectContaining({
        path: "/app/installations/4242/access_tokens",
        body: { repositories: ["web", "docs"], permissions: { contents: "write", pull_requests: "read" } },
        status: 201,
      }),
    ]);
    const grant = await rig.broker.store.getGrant(res.body["grant_id"] as string);
    expect(grant).toMatchObject({ status: "active", provider: "github" });
    expect(grant!.tokenSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(grant!.tokenCiphertext).toBeDefined();
    expect(grant!.tokenCiphertext).not.toContain(token);
  });

  it("answers expires_at with the earlier of the grant's end and GitHub's", async () => {
    const short = await rig.issue("acme/web", { duration_seconds: "120" });
    expect(short.body["expires_at"]).toBe(
      new Date(rig.clock.now() + 120_000).toISOString().replace(".000Z", "Z"),
    );
    expect(short.body["expires_in"]).toBe(120);
  });

  it("gives two grants two tokens, each its own POST", async () => {
    const before = posts().length;
    const a = await rig.issue();
    const b = await rig.issue();
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body["access_token"]).not.toBe(b.body["access_token"]);
    expect(posts().length - before).toBe(2);
  });

  it("looks the installation up once per process", async () => {
    await rig.issue();
    const before = rig.github.calls.filter((c) => c.path.endsWith("/installation")).length;
    await rig.issue();
    expect(rig.github.calls.filter((c) => c.path.endsWith("/installation")).length).toBe(before);
  });

  it.each([
    ["another owner's repository", "other/web"],
    ["a wildcard", "acme/*"],
    ["a path", "acme/web/../x"],
    ["a space", "acme/we b"],
  ])(
    "refuses %s in the repository claim with invalid_request, before recording or calling GitHub",
    async (_w, repo) => {
      const calls = rig.github.calls.length;
      const grants = (await rig.broker.store.listGrants()).items.length;
      const res = await rig.issue(repo);
      expect(res.status).toBe(400);
      expect(res.body["error"]).toBe("invalid_request");
      expect(rig.github.calls.length).toBe(calls);
      expect((await rig.broker.store.listGrants()).items.length).toBe(grants);
    },
  );

  it("refuses a repository the App is not installed on with invalid_request; the grant fails; GitHub's words are logged only", async () => {
    const res = await rig.issue("acme/secret-repo");
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect(JSON.stringify(res.body)).not.toContain("parent installation");
    const grant = (await rig.broker.store.listGrants({ status: "failed" })).items.at(-1)!;
    expect(grant.reason).toBe("issue failed: github_refused");
    expect(
      rig.logs.some(
        (l) => l.includes('"level":"error"') && l.includes("not accessible to the parent installation"),
      ),
    ).toBe(true);
  });

  it.each([
    [403, "Resource not accessible by integration"],
    [404, "Not Found"],
    [422, "The permissions requested are not granted to this installation."],
  ])("answers GitHub's %i with invalid_request and a failed grant", async (status) => {
    rig.github.fail({ route: "POST /app/installations/", status });
    const res = await rig.issue();
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    const grant = await rig.broker.store.getGrant(String(latestGrantId()));
    expect(grant).toMatchObject({ status: "failed" });
  });

  it.each([
    ["a 500", { status: 500 }],
    ["a 502 on every attempt", { status: 502, times: 3 }],
    ["a 429 past the retries", { status: 429, times: 3, headers: { "retry-after": "1" } }],
    [
      "a 403 with x-ratelimit-remaining 0 whose reset is past the budget",
      {
        status: 403,
        headers: {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": String(Math.floor(Date.parse("2026-11-30T11:00:00Z") / 1000)),
        },
      },
    ],
  ])("answers %s with 503 temporarily_unavailable and a failed grant", async (_w, fault) => {
    rig.github.fail({ route: "POST /app/installations/", ...fault });
    const res = await rig.issue();
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
    expect(await rig.broker.store.getGrant(String(latestGrantId()))).toMatchObject({ status: "failed" });
  });

  it("waits out a Retry-After that fits the budget and then issues", async () => {
    rig.github.fail({ route: "POST /app/installations/", status: 429, headers: { "retry-after": "2" } });
    const start = rig.clock.now();
    const res = await rig.issue();
    expect(res.status).toBe(200);
    expect(rig.clock.now() - start).toBeGreaterThanOrEqual(2000);
  });

  it("retries a rate-limited POST once its x-ratelimit-reset has passed", async () => {
    rig.github.fail({
      route: "POST /app/installations/",
      status: 403,
      headers: {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": String(Math.floor(rig.clock.now() / 1000) + 3),
      },
    });
    const res = await rig.issue();
    expect(res.status).toBe(200);
  });

  it("waits out a secondary rate limit (403 with Retry-After) instead of refusing", async () => {
    rig.github.fail({ route: "POST /app/installations/", status: 403, headers: { "retry-after": "1" } });
    expect((await rig.issue()).status).toBe(200);
  });

  it("answers 503 when GitHub cannot be reached, and records a failed grant", async () => {
    rig.github.fail({ route: "POST /app/installations/", hang: true });
    const res = await rig.issue();
    expect(res.status).toBe(503);
    expect(await rig.broker.store.getGrant(String(latestGrantId()))).toMatchObject({ status: "failed" });
  });
});

function latestGrantId(): string {
  const lines = rig.logs.filter((l) => l.includes('"grantId"'));
  const last = JSON.parse(lines.at(-1)!) as { grantId?: string; audit?: { grantId?: string } };
  return last.audit?.grantId ?? last.grantId!;
}
