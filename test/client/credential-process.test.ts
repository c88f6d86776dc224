// `credbroker credential-process` as the AWS SDK for JavaScript and the AWS CLI v2 run it: a
// `credential_process` profile in an AWS config file, the broker on `credbroker dev`, STS on the fixture.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { fromIni, fromProcess } from "@aws-sdk/credential-providers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, canCreateIn, cleanEnv, commandLine, runCli, uncreatableTmp } from "./run-cli.ts";
import { type ClientTestBroker, startClientTestBroker } from "./support.ts";

let broker: ClientTestBroker;
let dir: string;
let tokenFile: string;
let configFile: string;

/** The grant behind the last AssumeRole call, found through its RoleSessionName `cb-<grantId>`. */
async function lastIssuedGrant() {
  const session = broker.aws.callsTo("AssumeRole").at(-1)!.params["RoleSessionName"]!;
  const grant = await broker.dev.deps.store.getGrant(session.replace(/^cb-/, ""));
  if (!grant) throw new Error(`no grant for ${session}`);
  return grant;
}

beforeAll(async () => {
  broker = await startClientTestBroker();
  dir = await mkdtemp(join(tmpdir(), "cb-credproc-"));
  tokenFile = join(dir, "token");
  await writeFile(tokenFile, `${await broker.mint()}\n`);
  configFile = join(dir, "aws-config");
  const processLine = (task: string) =>
    commandLine([
      process.execPath,
      CLI,
      "credential-process",
      "--url",
      broker.dev.url,
      "--task",
      task,
      "--token-file",
      tokenFile,
    ]);
  await writeFile(
    configFile,
    [
      "[profile deploy]",
      `credential_process = ${processLine("deploy-web")}`,
      "region = us-east-1",
      "",
      "[profile reports]",
      `credential_process = ${processLine("read-reports")}`,
      "",
    ].join("\n"),
  );
  await writeFile(join(dir, "credentials"), "");
});
afterAll(() => broker?.close());

describe("credbroker credential-process", () => {
  it("prints Version 1 JSON and nothing else on stdout, with the credentials STS issued for the grant", async () => {
    const run = await runCli([
      "credential-process",
      "--url",
      broker.dev.url,
      "--task",
      "deploy-web",
      "--token-file",
      tokenFile,
    ]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trim().split("\n")).toHaveLength(1);
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(Object.keys(printed).sort()).toEqual([
      "AccessKeyId",
      "Expiration",
      "SecretAccessKey",
      "SessionToken",
      "Version",
    ]);
    expect(printed["Version"]).toBe(1);
    const grant = await lastIssuedGrant();
    expect(grant).toMatchObject({ workload: "web-ci", task: "deploy-web", status: "active" });
    // Exactly what STS returned for this grant's session, every field, not just the key id.
    const { RoleSessionName, ...issued } = broker.aws.issued.at(-1)!;
    expect(RoleSessionName).toBe(`cb-${grant.grantId}`);
    expect({ ...printed, Expiration: Date.parse(printed["Expiration"] as string) }).toEqual({
      Version: 1,
      ...issued,
      Expiration: Date.parse(issued.Expiration),
    });
    expect(printed["AccessKeyId"]).toBe(grant.accessKeyId);
  });

  it("runs in a container whose temp dir is not writable (read-only root, no /tmp volume)", async () => {
    const podDir = await mkdtemp(join(tmpdir(), "cb-pod-"));
    const podToken = join(podDir, "token");
    await writeFile(podToken, await broker.mint());
    const readOnlyTmp = await uncreatableTmp(podDir);
    const env = cleanEnv({ TMPDIR: readOnlyTmp });
    // The setup is real: the CLI's user cannot create anything in that temp dir.
    expect(await canCreateIn(readOnlyTmp)).toBe(false);
    const run = await runCli(
      ["credential-process", "--url", broker.dev.url, "--task", "deploy-web", "--token-file", podToken],
      env,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      Version: 1,
      AccessKeyId: broker.aws.issued.at(-1)!.AccessKeyId,
    });
  });

  it("gives the AWS SDK's fromProcess credentials that sign a real S3 request", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const s3 = createServer((req, res) => {
      seen.push(req.headers);
      req.resume().on("end", () => res.writeHead(200, { etag: '"x"' }).end());
    });
    await new Promise<void>((res) => s3.listen(0, "127.0.0.1", () => res()));
    try {
      const credentials = fromProcess({
        profile: "deploy",
        configFilepath: configFile,
        filepath: join(dir, "credentials"),
        ignoreCache: true,
      });
      const client = new S3Client({
        region: "us-east-1",
        endpoint: `http://127.0.0.1:${(s3.address() as AddressInfo).port}`,
        forcePathStyle: true,
        credentials,
      });
      const before = broker.aws.callsTo("AssumeRole").length;
      await client.send(
        new PutObjectCommand({ Bucket: "acme-web", Key: "acme/web/site.html", Body: "hello" }),
      );
      // One process run, one grant, and its key signed the request with its session token attached.
      expect(broker.aws.callsTo("AssumeRole").length).toBe(before + 1);
      const grant = await lastIssuedGrant();
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toContain(`Credential=${grant.accessKeyId}/`);
      expect(seen[0]?.["x-amz-security-token"]).toMatch(/\S/);
    } finally {
      s3.close();
    }
  });

  it("gives the AWS SDK's fromIni the broker's credentials for a credential_process profile", async () => {
    const credentials = await fromIni({
      profile: "deploy",
      configFilepath: configFile,
      filepath: join(dir, "credentials"),
      ignoreCache: true,
    })();
    const grant = await lastIssuedGrant();
    expect(credentials.accessKeyId).toBe(grant.accessKeyId);
    expect(credentials.sessionToken).toMatch(/\S/);
  });

  const awsCli = "/usr/bin/aws";
  it.skipIf(!existsSync(awsCli) && !process.env["CI"])(
    "gives the AWS CLI v2 (aws configure export-credentials) the credentials the broker issued",
    async () => {
      const out = await new Promise<{ stdout: string; stderr: string; code: number }>((res) =>
        execFile(
          awsCli,
          ["configure", "export-credentials", "--profile", "deploy", "--format", "process"],
          {
            env: cleanEnv({
              AWS_CONFIG_FILE: configFile,
              AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
            }),
            timeout: 60_000,
          },
          (err, stdout, stderr) => res({ stdout, stderr, code: err ? 1 : 0 }),
        ),
      );
      expect(out.stderr).toBe("");
      expect(out.code).toBe(0);
      const printed = JSON.parse(out.stdout) as Record<string, unknown>;
      const grant = await lastIssuedGrant();
      expect(printed).toMatchObject({ Version: 1, AccessKeyId: grant.accessKeyId });
      expect(printed["SessionToken"]).toMatch(/\S/);
      expect(Date.parse(printed["Expiration"] as string)).toBe(Date.parse(grant.expiresAt));
    },
  );

  describe("failures: one line on stderr, a non-zero exit, nothing on stdout, no secret", () => {
    it("says the broker is unreachable", async () => {
      const closed = createServer();
      await new Promise<void>((res) => closed.listen(0, "127.0.0.1", () => res()));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((res) => closed.close(() => res()));
      const run = await runCli([
        "credential-process",
        "--url",
        `http://127.0.0.1:${port}`,
        "--task",
        "deploy-web",
        "--token-file",
        tokenFile,
      ]);
      expect(run).toMatchObject({ code: 1, stdout: "" });
      expect(run.stderr).toBe(`credbroker: broker unreachable: http://127.0.0.1:${port} (ECONNREFUSED)\n`);
    });

    it("says the request was denied and quotes the decision id", async () => {
      const denied = join(dir, "reports-token");
      const token = await broker.mint("repo:acme/reports:ref:refs/heads/main", {});
      await writeFile(denied, token);
      const run = await runCli([
        "credential-process",
        "--url",
        broker.dev.url,
        "--task",
        "deploy-web",
        "--token-file",
        denied,
      ]);
      expect(run).toMatchObject({ code: 1, stdout: "" });
      expect(run.stderr).toMatch(
        /^credbroker: denied: the broker refused task deploy-web: .* \(decision \S+; quote it/,
      );
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).not.toContain(token);
    });

    it("says the token file is missing", async () => {
      const run = await runCli([
        "credential-process",
        "--url",
        broker.dev.url,
        "--task",
        "deploy-web",
        "--token-file",
        join(dir, "absent"),
      ]);
      expect(run).toMatchObject({ code: 1, stdout: "" });
      expect(run.stderr).toContain(`token file ${join(dir, "absent")} does not exist`);
    });

    it("says the identity token has expired, with its expiry time", async () => {
      const expired = join(dir, "expired-token");
      const token = await broker.mint(undefined, undefined, {
        nowMs: Date.now() - 3_600_000,
        lifetimeSeconds: 600,
      });
      await writeFile(expired, token);
      const run = await runCli([
        "credential-process",
        "--url",
        broker.dev.url,
        "--task",
        "deploy-web",
        "--token-file",
        expired,
      ]);
      expect(run).toMatchObject({ code: 1, stdout: "" });
      expect(run.stderr).toMatch(
        /^credbroker: the identity token expired at \d{4}-\d\d-\d\dT[\d:.]+Z; get a fresh token and retry\n$/,
      );
      expect(run.stderr).not.toContain(token);
    });

    it("refuses a jwt task before anything is issued", async () => {
      const grantsBefore = broker.aws.callsTo("AssumeRole").length;
      const run = await runCli([
        "credential-process",
        "--url",
        broker.dev.url,
        "--task",
        "read-reports",
        "--token-file",
        tokenFile,
      ]);
      expect(run).toMatchObject({ code: 1, stdout: "" });
      expect(run.stderr).toContain("task read-reports does not issue AWS credentials");
      expect(broker.aws.callsTo("AssumeRole").length).toBe(grantsBefore);
    });

    it("explains a missing token source and exits 2", async () => {
      const run = await runCli(["credential-process", "--url", broker.dev.url, "--task", "deploy-web"]);
      expect(run).toMatchObject({ code: 2, stdout: "" });
      expect(run.stderr).toContain("give exactly one of --token-file, --token-env, --github");
    });

    it("surfaces a failing credential_process through the SDK as an error, not credentials", async () => {
      await expect(
        fromProcess({
          profile: "reports",
          configFilepath: configFile,
          filepath: join(dir, "credentials"),
          ignoreCache: true,
        })(),
      ).rejects.toThrow();
    });
  });
});
