// The GitHub Action's main and post steps under a simulated Actions runtime: a local HTTP server stands in
// for the OIDC request URL, temp files for GITHUB_ENV/OUTPUT/STATE, and the broker is `credbroker dev`.
// The steps run as the runner runs them, one node process each (through tsx on Node 20; natively under
// Node 24's type stripping too when CREDBROKER_NODE24 names a Node 24 binary).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { cleanEnv } from "./run-cli.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

// Not the contract's fallback "credbroker": a step that skipped the broker's metadata would ask for the wrong
// audience and have its token refused.
const AUDIENCE = "https://credbroker.acme.example";

let broker: ClientTestBroker;
let oidc: Server;
let oidcRequests: { url: string; authorization: string | undefined }[] = [];
let oidcSubject = {
  sub: "repo:acme/web:ref:refs/heads/main",
  claims: { repository: "acme/web", ref: "refs/heads/main" } as Record<string, unknown>,
};

beforeAll(async () => {
  broker = await startClientTestBroker({ audience: AUDIENCE, github: true });
  oidc = createServer((req, res) => {
    oidcRequests.push({ url: req.url!, authorization: req.headers.authorization });
    if (req.headers.authorization !== "bearer runtime-request-token") return void res.writeHead(401).end();
    // Like GitHub: the token's `aud` is whatever audience the step asked for.
    const audience = new URL(req.url!, "http://oidc").searchParams.get("audience") ?? "";
    broker
      .mint(oidcSubject.sub, oidcSubject.claims, { audience })
      .then((value) =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ value })),
      );
  });
  await new Promise<void>((res) => oidc.listen(0, "127.0.0.1", () => res()));
});
afterAll(async () => {
  oidc?.close();
  await broker?.close();
});

const action = parseYaml(await readFile("action.yml", "utf8")) as {
  runs: { using: string; main: string; post: string };
  inputs: Record<string, unknown>;
};
const node24 = process.env["CREDBROKER_NODE24"];
// tsx by absolute URL: the step runs in the job's directory, where no node_modules is.
const tsx = pathToFileURL(resolve("node_modules/tsx/dist/loader.mjs")).href;
const runners: [string, string[]][] = [["tsx on Node 20", [process.execPath, "--import", tsx]]];
if (node24 && existsSync(node24)) runners.push(["Node 24 type stripping", [node24]]);

// GitHub runs the action on Node 24 with native type stripping; .ci/run provides that binary. Elsewhere the
// skip is reported, not silent.
it.skipIf(!(node24 && existsSync(node24)))(
  "runs natively under Node 24 type stripping (set CREDBROKER_NODE24 to a Node 24 binary)",
  () => {
    expect(runners.map(([name]) => name)).toContain("Node 24 type stripping");
  },
);

interface Job {
  dir: string;
  files: { GITHUB_ENV: string; GITHUB_OUTPUT: string; GITHUB_STATE: string };
}

async function newJob(): Promise<Job> {
  const dir = await mkdtemp(join(tmpdir(), "cb-action-"));
  const files = {
    GITHUB_ENV: join(dir, "env"),
    GITHUB_OUTPUT: join(dir, "output"),
    GITHUB_STATE: join(dir, "state"),
  };
  for (const f of Object.values(files)) await writeFile(f, "");
  return { dir, files };
}

/** Reads a GITHUB_ENV-style file: `NAME<<DELIMITER`, value lines, `DELIMITER`. */
async function readCommandFile(path: string): Promise<Record<string, string>> {
  const lines = (await readFile(path, "utf8")).split("\n");
  const out: Record<string, string> = {};
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.match(/^([^<]+)<<(ghadelimiter_[0-9a-f-]+)$/);
    if (!m) continue;
    const end = lines.indexOf(m[2]!, i + 1);
    out[m[1]!] = lines.slice(i + 1, end).join("\n");
    i = end;
  }
  return out;
}

function step(
  runner: string[],
  script: string,
  job: Job,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [bin, ...pre] = runner;
  const oidcUrl = `http://127.0.0.1:${(oidc.address() as AddressInfo).port}/_apis/idtoken?api-version=2.0`;
  return new Promise((res) =>
    // The runner starts steps in the workspace, not the action's directory: run from elsewhere.
    execFile(
      bin!,
      [...pre, resolve(script)],
      {
        cwd: job.dir,
        env: cleanEnv({
          ...job.files,
          ACTIONS_ID_TOKEN_REQUEST_URL: oidcUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: "runtime-request-token",
          ...env,
        }),
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        res({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    ),
  );
}

describe("action.yml", () => {
  it("runs main and post from source on node24 with the documented inputs", () => {
    expect(action.runs).toEqual({ using: "node24", main: "action/main.ts", post: "action/post.ts" });
    expect(Object.keys(action.inputs)).toEqual(
      expect.arrayContaining(["broker-url", "task", "duration", "purpose", "audience"]),
    );
  });
});

describe.each(runners)("the GitHub Action (%s)", (_name, runner) => {
  it("sets a masked github-token output for a github task, and the post step deletes the token", async () => {
    const job = await newJob();
    const main = await step(runner, action.runs.main, job, {
      "INPUT_BROKER-URL": broker.dev.url,
      INPUT_TASK: "push-web-docs",
    });
    expect(main.stderr).toBe("");
    expect(main.code).toBe(0);
    const outputs = await readCommandFile(job.files.GITHUB_OUTPUT);
    const token = outputs["github-token"]!;
    expect(token).toMatch(/^ghs_/);
    expect(outputs["token-type"]).toBe("github-token");
    expect((await readCommandFile(job.files.GITHUB_ENV))["GH_TOKEN"]).toBe(token);
    // Masked before anything else is printed; on stdout only in its mask command.
    expect(main.stdout.split("\n")[0]).toMatch(/^::add-mask::/);
    expect(main.stdout).toContain(`::add-mask::${token}`);
    expect(main.stdout.split(token).length - 1).toBe(1);
    expect(await broker.github!.tokenWorks(token)).toBe(true);

    const post = await step(runner, action.runs.post, job, {
      STATE_grant_id: outputs["grant-id"]!,
      STATE_broker_url: broker.dev.url,
      STATE_audience: AUDIENCE,
    });
    expect(post.code).toBe(0);
    expect(await broker.github!.tokenWorks(token)).toBe(false);
    expect(await broker.dev.deps.store.getGrant(outputs["grant-id"]!)).toMatchObject({ status: "revoked" });
  });

  it("exports masked AWS credentials, then releases the grant in the post step", async () => {
    const job = await newJob();
    oidcRequests = [];
    const main = await step(runner, action.runs.main, job, {
      "INPUT_BROKER-URL": broker.dev.url,
      INPUT_TASK: "deploy-web",
      INPUT_DURATION: "900",
      INPUT_PURPOSE: "deploy abc123 to production",
      "INPUT_AWS-REGION": "eu-west-1",
    });
    expect(main.stderr).toBe("");
    expect(main.code).toBe(0);
    // No audience input: the step asked for the audience the broker publishes in its metadata.
    expect(oidcRequests).toEqual([
      {
        url: `/_apis/idtoken?api-version=2.0&audience=${encodeURIComponent(AUDIENCE)}`,
        authorization: "bearer runtime-request-token",
      },
    ]);

    const exported = await readCommandFile(job.files.GITHUB_ENV);
    const outputs = await readCommandFile(job.files.GITHUB_OUTPUT);
    const state = await readCommandFile(job.files.GITHUB_STATE);
    const grant = (await broker.dev.deps.store.getGrant(outputs["grant-id"]!))!;
    expect(grant).toMatchObject({
      workload: "web-ci",
      task: "deploy-web",
      status: "active",
      purpose: "deploy abc123 to production",
    });
    expect(exported).toMatchObject({
      AWS_ACCESS_KEY_ID: grant.accessKeyId,
      CREDBROKER_GRANT_ID: grant.grantId,
      AWS_REGION: "eu-west-1",
      AWS_DEFAULT_REGION: "eu-west-1",
    });
    expect(Date.parse(exported["AWS_CREDENTIAL_EXPIRATION"]!)).toBe(Date.parse(grant.expiresAt));
    expect(outputs).toEqual({
      "grant-id": grant.grantId,
      "expires-at": grant.expiresAt,
      "token-type": "aws-credentials",
    });

    // Every secret is masked before anything else is printed, and appears on stdout only in its mask command.
    const secrets = [
      exported["AWS_ACCESS_KEY_ID"]!,
      exported["AWS_SECRET_ACCESS_KEY"]!,
      exported["AWS_SESSION_TOKEN"]!,
    ];
    const lines = main.stdout.trimEnd().split("\n");
    for (const secret of secrets) {
      expect(lines).toContain(`::add-mask::${secret}`);
      expect(main.stdout.split(secret).length - 1).toBe(1);
    }
    expect(lines.filter((l) => !l.startsWith("::add-mask::"))).toEqual([
      `credbroker: grant ${grant.grantId} for task deploy-web, expires ${grant.expiresAt}`,
    ]);
    // The state handed to the post step holds no secret.
    expect(state).toEqual({ grant_id: grant.grantId, broker_url: broker.dev.url, audience: AUDIENCE });

    oidcRequests = [];
    const post = await step(
      runner,
      action.runs.post,
      job,
      Object.fromEntries(Object.entries(state).map(([k, v]) => [`STATE_${k}`, v])),
    );
    expect(post.stderr).toBe("");
    expect(post.code).toBe(0);
    expect(post.stdout).toContain(`credbroker: released grant ${grant.grantId}`);
    expect(oidcRequests).toHaveLength(1);
    expect(await broker.dev.deps.store.getGrant(grant.grantId)).toMatchObject({
      status: "revoked",
      reason: "released",
    });
  });

  it("exports a masked bearer token for a jwt task", async () => {
    const job = await newJob();
    const main = await step(runner, action.runs.main, job, {
      "INPUT_BROKER-URL": broker.dev.url,
      INPUT_TASK: "read-reports",
    });
    expect(main.code).toBe(0);
    const exported = await readCommandFile(job.files.GITHUB_ENV);
    expect(Object.keys(exported).sort()).toEqual(["CREDBROKER_GRANT_ID", "CREDBROKER_TOKEN"]);
    expect(main.stdout).toContain(`::add-mask::${exported["CREDBROKER_TOKEN"]}\n`);
    expect(
      await broker.dev.deps.accessTokens.verify(exported["CREDBROKER_TOKEN"]!, Date.now()),
    ).toMatchObject({ sub: "web-ci" });
    expect((await readCommandFile(job.files.GITHUB_OUTPUT))["token-type"]).toBe("bearer");
  });

  it("waits for approval with wait-for-approval, printing the approval id, and exports the credential once approved", async () => {
    const job = await newJob();
    oidcSubject = { sub: "agent:ops", claims: {} };
    try {
      const purpose = `rotate from ${runner.length} runner`;
      const running = step(runner, action.runs.main, job, {
        "INPUT_BROKER-URL": broker.dev.url,
        INPUT_TASK: "rotate-prod-db",
        INPUT_PURPOSE: purpose,
        "INPUT_WAIT-FOR-APPROVAL": "60",
      });
      // Find this step's own request: the no-wait test of an earlier runner leaves one pending too.
      const approvals = broker.dev.deps.store.approvals!;
      const ours = async () => (await approvals.listPending()).find((p) => p.purpose === purpose);
      let request = await ours();
      for (let i = 0; i < 200 && !request; i++) {
        await new Promise((r) => setTimeout(r, 100));
        request = await ours();
      }
      const id = request!.approvalId;
      const approver = await broker.dev.devApprovers.mint({
        sub: "alice",
        claims: { groups: "sre", email: "alice@acme.example" },
        audience: broker.audience,
        nowMs: Date.now(),
      });
      const res = await fetch(`${broker.dev.url}/approvals/${id}`, {
        method: "POST",
        headers: { authorization: `Bearer ${approver}`, "content-type": "application/x-www-form-urlencoded" },
        body: "decision=approve&reason=change+OPS-1",
      });
      expect(res.status).toBe(200);
      const main = await running;
      expect(main.code).toBe(0);
      expect(main.stdout).toContain(`waits for approval (approval id ${id}`);
      expect(main.stdout).toContain(`credbroker approvals approve ${id}`);
      const exported = await readCommandFile(job.files.GITHUB_ENV);
      expect(Object.keys(exported).sort()).toEqual(["CREDBROKER_GRANT_ID", "CREDBROKER_TOKEN"]);
      expect(main.stdout).toContain(`::add-mask::${exported["CREDBROKER_TOKEN"]}\n`);
    } finally {
      oidcSubject = {
        sub: "repo:acme/web:ref:refs/heads/main",
        claims: { repository: "acme/web", ref: "refs/heads/main" },
      };
    }
  });

  it("fails at once while approval is pending when wait-for-approval is not set, naming the approval", async () => {
    const job = await newJob();
    oidcSubject = { sub: "agent:ops", claims: {} };
    try {
      const main = await step(runner, action.runs.main, job, {
        "INPUT_BROKER-URL": broker.dev.url,
        INPUT_TASK: "rotate-prod-db",
        INPUT_PURPOSE: `no wait from ${runner.length} runner`,
      });
      expect(main.code).toBe(1);
      expect(main.stdout).toMatch(
        /^::error::credbroker: .*authorization_pending.*approval id [0-9a-z]{26}; set wait-for-approval/m,
      );
      expect(await readFile(job.files.GITHUB_ENV, "utf8")).toBe("");
    } finally {
      oidcSubject = {
        sub: "repo:acme/web:ref:refs/heads/main",
        claims: { repository: "acme/web", ref: "refs/heads/main" },
      };
    }
  });

  it("fails the step with the decision id and exports nothing when the broker denies", async () => {
    const job = await newJob();
    oidcSubject = { sub: "repo:acme/reports:ref:refs/heads/main", claims: {} };
    try {
      const main = await step(runner, action.runs.main, job, {
        "INPUT_BROKER-URL": broker.dev.url,
        INPUT_TASK: "deploy-web",
      });
      expect(main.code).toBe(1);
      expect(main.stdout).toMatch(
        /^::error::credbroker: the broker refused the request: access_denied .*\[decision \S+\]/m,
      );
      expect(await readFile(job.files.GITHUB_ENV, "utf8")).toBe("");
      expect(await readFile(job.files.GITHUB_STATE, "utf8")).toBe("");
    } finally {
      oidcSubject = {
        sub: "repo:acme/web:ref:refs/heads/main",
        claims: { repository: "acme/web", ref: "refs/heads/main" },
      };
    }
  });

  it("asks for the audience input instead of the published one when it is given", async () => {
    const job = await newJob();
    oidcRequests = [];
    const main = await step(runner, action.runs.main, job, {
      "INPUT_BROKER-URL": broker.dev.url,
      INPUT_TASK: "read-reports",
      INPUT_AUDIENCE: "credbroker",
    });
    expect(oidcRequests.map((r) => new URL(r.url, "http://oidc").searchParams.get("audience"))).toEqual([
      "credbroker",
    ]);
    // That is not this broker's audience: it refuses the token and the step exports nothing.
    expect(main.code).toBe(1);
    expect(main.stdout).toMatch(/^::error::credbroker: the broker refused the request: invalid_request/m);
    expect(await readFile(job.files.GITHUB_ENV, "utf8")).toBe("");
  });

  it("fails the step with a hint when the job lacks id-token permission", async () => {
    const job = await newJob();
    const main = await step(runner, action.runs.main, job, {
      "INPUT_BROKER-URL": broker.dev.url,
      INPUT_TASK: "deploy-web",
      ACTIONS_ID_TOKEN_REQUEST_URL: "",
    });
    expect(main.code).toBe(1);
    expect(main.stdout).toContain("::error::credbroker: no GitHub Actions OIDC runtime");
    expect(main.stdout).toContain("id-token: write");
  });

  it("post does nothing when main issued nothing, and only warns when the broker is gone", async () => {
    const job = await newJob();
    oidcRequests = [];
    const idle = await step(runner, action.runs.post, job, {});
    expect(idle).toMatchObject({ code: 0, stderr: "" });
    expect(oidcRequests).toEqual([]);

    const gone = await step(runner, action.runs.post, job, {
      STATE_grant_id: "g1",
      STATE_broker_url: "http://127.0.0.1:9",
      STATE_audience: "credbroker",
    });
    expect(gone.code).toBe(0);
    expect(gone.stdout).toMatch(
      /^::warning::credbroker: could not release the grant; it ends at its expiry/m,
    );
  });
});
