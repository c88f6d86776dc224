// GitHub's workflow_job and workflow_run webhooks against `credbroker dev`, with the demo's three credential
// kinds of a CI job (jwt, aws-sts at the IAM fixture, github at the GitHub stand-in): real example payloads,
// signed as GitHub signs them. Exactly the grants of the completed job or run end; the job's token is then
// refused; a redelivery does nothing; every forged, malformed or oversized delivery changes nothing.
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { sign } from "@octokit/webhooks-methods";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevBroker } from "../../lib/local/dev-server.ts";
import { pointDemoAtStandIn } from "../client/support.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import type { GitHubStandIn } from "../fixtures/github-server.ts";
import { captureLogger } from "../support/dev.ts";
import {
  deliverGithub,
  type EventsDev,
  exchange,
  GITHUB_SECRET,
  GITHUB_SECRET_ENV,
  githubExample,
  issueGrant,
  startEventsDev,
  statusOf,
} from "./support.ts";

const SUB = "repo:acme/web:ref:refs/heads/main";
// The completed workflow_job example: repository 186853002, run 2202229078 attempt 1, check run 1291536064.
const JOB = {
  repository: "acme/web",
  repository_id: "186853002",
  ref: "refs/heads/main",
  run_id: "2202229078",
  run_attempt: "1",
  check_run_id: "1291536064",
};
let aws: AwsQueryServer;
let github: GitHubStandIn;
let dev: DevBroker;
let world: EventsDev;
const logs: string[] = [];

beforeAll(async () => {
  aws = await startAwsQueryServer();
  world = await startEventsDev({
    events: `  github:\n    secret: { env: ${GITHUB_SECRET_ENV} }\n    issuers: [dev]\n`,
    env: { [GITHUB_SECRET_ENV]: GITHUB_SECRET },
    aws,
    log: captureLogger(logs),
    prepare: async (configPath, dataDir) => {
      github = await pointDemoAtStandIn(configPath, dataDir, Date.now);
    },
  });
  dev = world.dev;
});
afterAll(async () => {
  await world?.close();
  await github?.close();
  await aws?.close();
});

const issue = (claims: Record<string, unknown>, task: string) => issueGrant(dev, SUB, claims, task);

async function introspect(token: string): Promise<boolean> {
  const res = await fetch(`${dev.url}/introspect`, { method: "POST", body: new URLSearchParams({ token }) });
  return ((await res.json()) as { active: boolean }).active;
}

describe("POST /events/github on credbroker dev", () => {
  it("ends every grant of the completed job, of each kind, and only those", async () => {
    const jwtToken = await exchange(dev, SUB, JOB, "read-reports");
    const jwtGrant = jwtToken.body["grant_id"] as string;
    const stsGrant = await issue(JOB, "deploy-web");
    const ghIssued = await exchange(dev, SUB, JOB, "push-web-docs");
    expect(ghIssued.status).toBe(200);
    const ghGrant = ghIssued.body["grant_id"] as string;
    const ghToken = ghIssued.body["access_token"] as string;
    // The same run's other job, another run of the repository, and a token that names no job.
    const otherJob = await issue({ ...JOB, check_run_id: "1291536065" }, "read-reports");
    const otherRun = await issue({ ...JOB, run_id: "2202229079" }, "read-reports");
    const noRun = await issue({ repository: "acme/web", ref: "refs/heads/main" }, "read-reports");

    const delivered = await deliverGithub(dev, "workflow_job", githubExample("workflow_job", "completed"));
    expect(delivered.status).toBe(200);
    expect(delivered.body["ended"]).toBe(3);
    expect([...(delivered.body["grants"] as string[])].sort()).toEqual([jwtGrant, stsGrant, ghGrant].sort());

    for (const id of [jwtGrant, stsGrant, ghGrant]) {
      const grant = await dev.deps.store.getGrant(id);
      expect(grant).toMatchObject({ status: "revoked", reason: "task-ended" });
      expect(grant?.revocationPending).toBeFalsy();
    }
    expect(await introspect(jwtToken.body["access_token"] as string)).toBe(false);
    expect(JSON.stringify(aws.policyDocument("web-deployer"))).toContain(stsGrant);
    expect(github.tokens.get(ghToken)?.deleted).toBe(true);
    for (const id of [otherJob, otherRun, noRun]) expect(await statusOf(dev, id)).toBe("active");

    // Each ended grant has one audit event naming the delivery.
    const audit = await dev.deps.store.listAudit({
      sinceMs: Date.now() - 60_000,
      untilMs: Date.now() + 60_000,
    });
    const ends = audit.items.filter((e) => e.kind === "event" && e.grantId);
    expect(ends.map((e) => e.grantId).sort()).toEqual([jwtGrant, stsGrant, ghGrant].sort());
    for (const e of ends)
      expect(e).toMatchObject({ actor: "github", deliveryId: delivered.id, reasons: ["task-ended"] });
  });

  it("refuses a token of the ended job with access_denied (task ended), recorded like any denial", async () => {
    const denied = await exchange(dev, SUB, JOB, "read-reports");
    expect(denied.status).toBe(403);
    expect(denied.body["error"]).toBe("access_denied");
    const audit = await dev.deps.store.listAudit({
      sinceMs: Date.now() - 60_000,
      untilMs: Date.now() + 60_000,
    });
    const event = audit.items.find((e) => e.decisionId === denied.body["decision_id"]);
    expect(event).toMatchObject({ kind: "token", outcome: "deny", reasons: ["task ended"] });
    // The run's other job goes on.
    expect((await exchange(dev, SUB, { ...JOB, check_run_id: "1291536065" }, "read-reports")).status).toBe(
      200,
    );
  });

  it("does nothing for a redelivery of the same delivery id", async () => {
    const claims = { ...JOB, run_id: "2202229078", check_run_id: "1291536064" };
    const payload = githubExample("workflow_job", "completed");
    const first = await deliverGithub(dev, "workflow_job", payload);
    expect(first.status).toBe(200);
    // A grant issued after the first delivery cannot exist for that job (it is refused), so a grant of
    // another run stands in: the redelivery must not touch anything.
    const bystander = await issue({ ...claims, run_id: "31" }, "read-reports");
    const again = await deliverGithub(dev, "workflow_job", payload, { id: first.id });
    expect(again).toMatchObject({ status: 200, body: { duplicate: true } });
    expect(await statusOf(dev, bystander)).toBe("active");
  });

  it("ends grants that name no check run with their workflow_run, not with a job", async () => {
    const payload = githubExample("workflow_run", "completed");
    const repo = payload["repository"] as { id: number; full_name: string };
    const run = payload["workflow_run"] as { id: number; run_attempt: number };
    const claims = {
      repository: "acme/web",
      repository_id: String(repo.id),
      ref: "refs/heads/main",
      run_id: String(run.id),
      run_attempt: String(run.run_attempt),
    };
    const runGrant = await issue(claims, "read-reports");
    const jobGrant = await issue({ ...claims, check_run_id: "77" }, "deploy-web");
    const otherAttempt = await issue({ ...claims, run_attempt: "2" }, "read-reports");
    const result = await deliverGithub(dev, "workflow_run", payload);
    expect(result.status).toBe(200);
    expect([...(result.body["grants"] as string[])].sort()).toEqual([runGrant, jobGrant].sort());
    expect(await statusOf(dev, otherAttempt)).toBe("active");
    expect((await exchange(dev, SUB, claims, "read-reports")).status).toBe(403);
  });

  it("matches by repository name when the token carries no repository_id", async () => {
    const payload = githubExample("workflow_run", "completed");
    // The demo's policies want acme/web; GitHub names the repository in full_name (any case).
    (payload["repository"] as { full_name: string }).full_name = "Acme/Web";
    (payload["workflow_run"] as { id: number }).id = 4242;
    const grant = await issue(
      { repository: "acme/web", ref: "refs/heads/main", run_id: "4242", run_attempt: "1" },
      "read-reports",
    );
    const result = await deliverGithub(dev, "workflow_run", payload);
    expect(result.body["grants"]).toEqual([grant]);
  });

  it("answers ping with 200 and other events with 202 ignored, changing nothing", async () => {
    const ping = await deliverGithub(dev, "ping", githubExample("ping"));
    expect(ping.status).toBe(200);
    const push = await deliverGithub(dev, "push", { ref: "refs/heads/main" });
    expect(push).toMatchObject({ status: 202, body: { ignored: "push" } });
    const queued = await deliverGithub(dev, "workflow_job", githubExample("workflow_job", "queued"));
    expect(queued).toMatchObject({ status: 202, body: { ignored: "workflow_job" } });
  });

  describe("refuses a delivery it cannot trust, and changes nothing", () => {
    let run = 600;
    /** A completed job of a run of its own, and a live grant of it. */
    const job = async () => {
      const runId = ++run;
      const claims = { ...JOB, run_id: String(runId) };
      const payload = githubExample("workflow_job", "completed");
      (payload["workflow_job"] as { run_id: number }).run_id = runId;
      return { claims, payload, grant: await issue(claims, "read-reports") };
    };

    it.each([
      ["a wrong signature", { signature: `sha256=${"0".repeat(64)}` }, 401, "invalid_signature"],
      ["a missing signature", { signature: null }, 401, "invalid_signature"],
      ["a signature made with another secret", { secret: "another secret" }, 401, "invalid_signature"],
      [
        "a sha1 signature",
        { signature: "sha1=0123456789abcdef0123456789abcdef01234567" },
        401,
        "invalid_signature",
      ],
      ["a text/plain body", { contentType: "text/plain" }, 415, "unsupported_media_type"],
    ] as const)("%s", async (_, options, status, error) => {
      const { claims, payload, grant } = await job();
      const refused = await deliverGithub(dev, "workflow_job", payload, options);
      expect(refused.status).toBe(status);
      expect(refused.body["error"]).toBe(error);
      expect(await statusOf(dev, grant)).toBe("active");
      expect((await exchange(dev, SUB, claims, "read-reports")).status).toBe(200);
      // The refused delivery's id is not remembered: GitHub's genuine redelivery of it still acts.
      const genuine = await deliverGithub(dev, "workflow_job", payload, { id: refused.id });
      expect(genuine.status).toBe(200);
      expect(genuine.body["grants"]).toContain(grant);
    });

    it("a truncated signature", async () => {
      const { payload, grant } = await job();
      const raw = JSON.stringify(payload);
      const good = await sign(GITHUB_SECRET, raw);
      const refused = await deliverGithub(dev, "workflow_job", payload, {
        raw,
        signature: good.slice(0, -2),
      });
      expect(refused).toMatchObject({ status: 401, body: { error: "invalid_signature" } });
      expect(await statusOf(dev, grant)).toBe("active");
    });

    it("a 2 MiB body (413)", async () => {
      const { payload, grant } = await job();
      payload["padding"] = "x".repeat(2 * 1024 * 1024);
      const refused = await deliverGithub(dev, "workflow_job", payload);
      expect(refused.status).toBe(413);
      expect(await statusOf(dev, grant)).toBe("active");
    });

    it("a signed body that is not JSON (400 invalid_request)", async () => {
      const { payload, grant } = await job();
      const refused = await deliverGithub(dev, "workflow_job", undefined, {
        raw: `${JSON.stringify(payload)}}{`,
      });
      expect(refused).toMatchObject({ status: 400, body: { error: "invalid_request" } });
      expect(await statusOf(dev, grant)).toBe("active");
    });

    it("a signed completed workflow_job without its run id (400 invalid_request)", async () => {
      const { payload, grant } = await job();
      delete (payload["workflow_job"] as { run_id?: number }).run_id;
      const refused = await deliverGithub(dev, "workflow_job", payload);
      expect(refused).toMatchObject({ status: 400, body: { error: "invalid_request" } });
      expect(await statusOf(dev, grant)).toBe("active");
    });
  });

  it("never writes the webhook secret, or a delivery's signature, to a log line or the table", async () => {
    const body = JSON.stringify(githubExample("workflow_run", "completed"));
    const signature = await sign(GITHUB_SECRET, body);
    await deliverGithub(dev, "workflow_run", undefined, { raw: body });
    const items = await dev.dynamo.client.send(new ScanCommand({ TableName: dev.tableName }));
    const stored = JSON.stringify(items.Items);
    expect(items.Items?.length).toBeGreaterThan(0);
    for (const text of [stored, logs.join("\n")]) {
      expect(text).not.toContain(GITHUB_SECRET);
      expect(text).not.toContain(signature.slice(7));
    }
  });

  it("shows taskEnd on the console's overview", async () => {
    // The first visit trades the URL's token for the session cookie (303), as a browser does.
    const first = await fetch(dev.consoleUrl, { redirect: "manual" });
    const cookie = (first.headers.get("set-cookie") ?? "").split(";")[0]!;
    const res = await fetch(new URL(first.headers.get("location") ?? "/console/", dev.url), {
      headers: { cookie },
    });
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('<section id="task-end"');
    const ended = /<dd id="task-end-ended">(\d+)<\/dd>/.exec(page)?.[1];
    expect(Number(ended)).toBeGreaterThanOrEqual(3);
    expect(Number(/<dd id="task-end-denied">(\d+)<\/dd>/.exec(page)?.[1])).toBeGreaterThanOrEqual(1);
  });
});
