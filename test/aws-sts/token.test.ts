// POST /token for an aws-sts task, against the STS Query fixture: the exact AssumeRole sent, the response,
// the grant record, and each STS failure mapped to a contract error with the grant left `failed`.
import { describe, expect, it } from "vitest";
import { queryList, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { NOW } from "../support/broker.ts";
import { createStsBroker, DEPLOY_TASK, deployRequest, ROLE_ARN, useStsRig } from "./support.ts";

const rig = useStsRig();

const mint = (claims: Record<string, unknown> = { repository: "acme/web" }) =>
  rig.broker.issuer.mint(claims, { nowMs: NOW });

describe("aws-sts issuance", () => {
  it("calls AssumeRole with the grant's session name, source identity, tags and rendered policy", async () => {
    const res = await rig.broker.call("token", deployRequest(await mint(), { duration_seconds: "1200" }));
    expect(res.status).toBe(200);
    const grantId = res.body["grant_id"] as string;
    const [call] = rig.aws.callsTo("AssumeRole");
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(1);
    expect(call!.params).toEqual({
      Action: "AssumeRole",
      Version: "2011-06-15",
      RoleArn: ROLE_ARN,
      RoleSessionName: `cb-${grantId}`,
      SourceIdentity: "web-ci",
      DurationSeconds: "1200",
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["s3:PutObject"], Resource: "arn:aws:s3:::acme-web/acme/web/*" },
        ],
      }),
      "Tags.member.1.Key": "credbroker-grant",
      "Tags.member.1.Value": grantId,
      "Tags.member.2.Key": "credbroker-workload",
      "Tags.member.2.Value": "web-ci",
      "Tags.member.3.Key": "credbroker-task",
      "Tags.member.3.Value": "deploy-web",
      "TransitiveTagKeys.member.1": "credbroker-grant",
    });
  });

  it("sends managed policy ARNs and the external id when the task has them", async () => {
    const b = await createStsBroker(rig.aws, {
      tasks: [
        {
          ...DEPLOY_TASK,
          externalId: "acme-ext-1",
          managedPolicyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        },
      ],
    });
    const res = await b.call(
      "token",
      deployRequest(await b.issuer.mint({ repository: "acme/web" }, { nowMs: NOW })),
    );
    expect(res.status).toBe(200);
    const params = rig.aws.callsTo("AssumeRole")[0]!.params;
    expect(params["ExternalId"]).toBe("acme-ext-1");
    expect(queryList(params, "PolicyArns")).toEqual([{ arn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }]);
  });

  it("answers with the credentials and records the grant active with the access key id", async () => {
    const res = await rig.broker.call("token", deployRequest(await mint()));
    expect(res.status).toBe(200);
    const creds = res.body["credentials"] as Record<string, string>;
    expect(res.body).toMatchObject({
      issued_token_type: "urn:credbroker:token-type:aws-credentials",
      token_type: "N_A",
      access_token: creds["SessionToken"],
      scope: "deploy-web",
      expires_in: 3600,
      expires_at: "2026-11-30T11:00:00Z",
    });
    expect(creds).toEqual({
      AccessKeyId: expect.stringMatching(/^ASIA/),
      SecretAccessKey: expect.any(String),
      SessionToken: expect.any(String),
      Expiration: "2026-11-30T11:00:00Z",
    });
    const grant = await rig.broker.store.getGrant(res.body["grant_id"] as string);
    expect(grant).toMatchObject({
      status: "active",
      accessKeyId: creds["AccessKeyId"],
      roleArn: ROLE_ARN,
      expiresAt: "2026-11-30T11:00:00Z",
    });
    // Nothing secret is stored or logged.
    const stored = JSON.stringify(grant) + rig.broker.logs.join("\n");
    expect(stored).not.toContain(creds["SecretAccessKey"]);
    expect(stored).not.toContain(creds["SessionToken"]);
  });

  it.each([
    ["acme/*", "a wildcard"],
    ['x","Effect":"Allow', "a JSON breakout"],
    ["acme web", "a space"],
    ["${aws:username}", "an IAM policy variable"],
    ["", "an empty value"],
  ])("refuses claim %j (%s) with invalid_request and never calls STS", async (repository) => {
    const res = await rig.broker.call("token", deployRequest(await mint({ repository })));
    expect(res.status).toBe(400);
    expect(res.body["error"]).toBe("invalid_request");
    expect(res.body["error_description"]).toContain("${claim:repository}");
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(0);
  });

  it("refuses a token without the claim the policy needs", async () => {
    const res = await rig.broker.call("token", deployRequest(await mint({})));
    expect(res.status).toBe(400);
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(0);
  });

  it("refuses a session policy that renders over 2,048 characters before calling STS", async () => {
    const long = { ...DEPLOY_TASK, sessionPolicy: { ...DEPLOY_TASK.sessionPolicy, Id: "p".repeat(2100) } };
    const b = await createStsBroker(rig.aws, { tasks: [long] });
    const res = await b.call(
      "token",
      deployRequest(await b.issuer.mint({ repository: "acme/web" }, { nowMs: NOW })),
    );
    expect(res.status).toBe(400);
    expect(res.body["error_description"]).toMatch(
      /session policy of task deploy-web renders to \d+ characters; STS allows 2048/,
    );
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(0);
  });

  it("refuses a duration below STS's 900 s minimum", async () => {
    const res = await rig.broker.call("token", deployRequest(await mint(), { duration_seconds: "899" }));
    expect(res.status).toBe(400);
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(0);
  });
});

describe("STS failures", () => {
  it.each([
    [
      "MalformedPolicyDocument",
      400,
      400,
      "invalid_request",
      "AWS STS rejected the session policy of task deploy-web",
    ],
    [
      "PackedPolicyTooLarge",
      400,
      400,
      "invalid_request",
      "AWS STS rejected the session policy of task deploy-web",
    ],
    [
      "AccessDenied",
      403,
      503,
      "temporarily_unavailable",
      "trust policy must allow the broker's role sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity",
    ],
    [
      "RegionDisabledException",
      403,
      503,
      "temporarily_unavailable",
      "not activated in the region of task deploy-web",
    ],
    ["ExpiredToken", 400, 503, "temporarily_unavailable", "refused the broker's own AWS credentials"],
    [
      "ValidationError",
      400,
      503,
      "temporarily_unavailable",
      "maximum session duration covers the task's maxDurationSeconds",
    ],
    ["InternalFailure", 500, 503, "temporarily_unavailable", "AWS STS"],
  ])("maps %s to %i %s and leaves the grant failed", async (code, upstream, status, error, description) => {
    const failedBefore = (await rig.broker.store.listGrants({ status: "failed" })).items.map(
      (g) => g.grantId,
    );
    rig.aws.failNext("AssumeRole", { code, status: upstream, message: "secret upstream detail", times: 10 });
    const res = await rig.broker.call("token", deployRequest(await mint()));
    expect(res.status).toBe(status);
    expect(res.body["error"]).toBe(error);
    expect(res.body["error_description"]).toContain(description);
    expect(res.body["error_description"]).not.toContain("secret upstream detail");
    const failed = (await rig.broker.store.listGrants({ status: "failed" })).items.filter(
      (g) => !failedBefore.includes(g.grantId),
    );
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ task: "deploy-web", reason: expect.stringMatching(/^issue failed: /) });
    expect(failed[0]!.accessKeyId).toBeUndefined();
  });

  it("retries throttling with the SDK's standard backoff and then issues", async () => {
    rig.aws.failNext("AssumeRole", { code: "Throttling", status: 400, message: "Rate exceeded", times: 2 });
    const res = await rig.broker.call("token", deployRequest(await mint()));
    expect(res.status).toBe(200);
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(3);
  });

  it("answers 503 when STS keeps throttling past the retries", async () => {
    rig.aws.failNext("AssumeRole", { code: "Throttling", status: 400, message: "Rate exceeded", times: 10 });
    const res = await rig.broker.call("token", deployRequest(await mint()));
    expect(res.status).toBe(503);
    expect(res.body["error_description"]).toContain("AWS STS is throttling AssumeRole");
    expect(rig.aws.callsTo("AssumeRole")).toHaveLength(3);
  });

  it("answers 503 when STS is unreachable", async () => {
    const dead = await startAwsQueryServer();
    await dead.close();
    const b = await createStsBroker(dead, { maxAttempts: 1 });
    const res = await b.call(
      "token",
      deployRequest(await b.issuer.mint({ repository: "acme/web" }, { nowMs: NOW })),
    );
    expect(res.status).toBe(503);
    expect(res.body["error"]).toBe("temporarily_unavailable");
  });
});
