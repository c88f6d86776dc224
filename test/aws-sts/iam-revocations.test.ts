// The credbroker-revocations role policy as IAM receives it: exact documents, many revocations at once on
// one role, the size fallback, pruning, a rival writer's lost update caught by the verifying read, and one
// that slipped past it caught by the later re-check.
import { IAMClient } from "@aws-sdk/client-iam";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { IamRevocationWriter } from "../../lib/aws/iam-revocations.ts";
import { newId } from "../../lib/core/ids.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../fixtures/aws-query-server.ts";
import { NOW } from "../support/broker.ts";
import { ROLE_ARN, ROLE_NAME, revocationList } from "./support.ts";

let aws: AwsQueryServer;
let iam: IAMClient;

beforeAll(async () => {
  aws = await startAwsQueryServer({ now: () => NOW });
  iam = new IAMClient({ ...aws.clientConfig, maxAttempts: 1 });
});
afterAll(async () => {
  iam.destroy();
  await aws.close();
});
beforeEach(() => aws.reset());

const writer = (options: Partial<ConstructorParameters<typeof IamRevocationWriter>[0]> = {}) =>
  new IamRevocationWriter({ client: iam, backoffMs: () => 1, ...options });

const listed = revocationList;

describe("IAM revocation list", () => {
  it("writes one Deny of every action for the listed grant ids on the task's role", async () => {
    const id = newId(NOW);
    expect(await writer().revoke(ROLE_ARN, id, NOW)).toBe("grant-listed");
    const [put] = aws.callsTo("PutRolePolicy");
    expect(put!.params["RoleName"]).toBe(ROLE_NAME);
    expect(put!.params["PolicyName"]).toBe("credbroker-revocations");
    expect(JSON.parse(put!.params["PolicyDocument"]!)).toEqual(listed([id]));
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([id]));
  });

  it("adds to the ids already listed and does not list an id twice", async () => {
    const [a, b] = [newId(NOW), newId(NOW)];
    const w = writer();
    await w.revoke(ROLE_ARN, a, NOW);
    await w.revoke(ROLE_ARN, b, NOW);
    await w.revoke(ROLE_ARN, a, NOW);
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([a, b]));
  });

  it("lands 50 concurrent revocations on one role, none lost", async () => {
    aws.setLatency("*", 5);
    const ids = Array.from({ length: 50 }, () => newId(NOW));
    const w = writer();
    const modes = await Promise.all(ids.map((id) => w.revoke(ROLE_ARN, id, NOW)));
    expect(modes.every((m) => m === "grant-listed")).toBe(true);
    const doc = aws.policyDocument(ROLE_NAME) as ReturnType<typeof listed>;
    expect([...doc.Statement[0]!.Condition.StringEquals["aws:PrincipalTag/credbroker-grant"]].sort()).toEqual(
      [...ids].sort(),
    );
    // Batched: far fewer writes than revocations.
    expect(aws.callsTo("PutRolePolicy").length).toBeLessThan(10);
  });

  it("lands concurrent revocations from two writers (two processes) on one role, none lost", async () => {
    aws.setLatency("*", 3);
    const ids = Array.from({ length: 20 }, () => newId(NOW));
    const [w1, w2] = [writer({ maxAttempts: 20 }), writer({ maxAttempts: 20 })];
    await Promise.all(ids.map((id, i) => (i % 2 ? w1 : w2).revoke(ROLE_ARN, id, NOW)));
    const doc = aws.policyDocument(ROLE_NAME) as ReturnType<typeof listed>;
    const listedIds = doc.Statement.flatMap(
      (s) => s.Condition.StringEquals?.["aws:PrincipalTag/credbroker-grant"] ?? [],
    );
    expect([...listedIds].sort()).toEqual([...ids].sort());
  });

  it("rewrites the list when a rival writer overwrote it between the write and the check", async () => {
    const [mine, theirs] = [newId(NOW), newId(NOW)];
    let rivalDone = false;
    aws.intercept("GetRolePolicy", () => {
      // After our first write lands, a writer that read the empty policy earlier writes only its own id.
      if (!rivalDone && aws.callsTo("PutRolePolicy").length === 1) {
        rivalDone = true;
        aws.rolePolicies.get(ROLE_NAME)!.set("credbroker-revocations", JSON.stringify(listed([theirs])));
      }
    });
    expect(await writer().revoke(ROLE_ARN, mine, NOW)).toBe("grant-listed");
    expect(aws.callsTo("PutRolePolicy")).toHaveLength(2);
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([theirs, mine]));
  });

  it("loses an id to a rival process's stale write after both checked, and a later re-check restores it", async () => {
    // The reviewer's race: writer 2 reads the empty policy and its write is slow to land; writer 1 reads,
    // writes and verifies in between; writer 2's stale document then lands and verifies too.
    const [first, second] = [newId(NOW), newId(NOW)];
    const [w1, w2] = [writer(), writer()];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let writing!: () => void;
    const secondWriting = new Promise<void>((r) => {
      writing = r;
    });
    aws.intercept("PutRolePolicy", async (params) => {
      const doc = params["PolicyDocument"] ?? "";
      if (doc.includes(second) && !doc.includes(first)) {
        writing();
        await gate;
      }
    });
    const late = w2.revoke(ROLE_ARN, second, NOW);
    await secondWriting;
    expect(await w1.revoke(ROLE_ARN, first, NOW)).toBe("grant-listed");
    release();
    expect(await late).toBe("grant-listed");
    // Both verified, yet the first id is gone: no check inside one revocation can see this.
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([second]));

    const puts = aws.callsTo("PutRolePolicy").length;
    expect(await w2.recheck(ROLE_ARN, second, NOW)).toEqual({ mode: "grant-listed", reapplied: false });
    expect(aws.callsTo("PutRolePolicy")).toHaveLength(puts);
    expect(await w1.recheck(ROLE_ARN, first, NOW)).toEqual({ mode: "grant-listed", reapplied: true });
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([second, first]));
  });

  it("re-checks a grant covered by an issue-time deny without writing", async () => {
    const id = newId(NOW - 60_000);
    aws.rolePolicies.set(
      ROLE_NAME,
      new Map([
        [
          "credbroker-revocations",
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "CredbrokerRevokedBefore",
                Effect: "Deny",
                Action: "*",
                Resource: "*",
                Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-30T10:00:01Z" } },
              },
            ],
          }),
        ],
      ]),
    );
    expect(await writer().recheck(ROLE_ARN, id, NOW)).toEqual({ mode: "token-issue-time", reapplied: false });
    expect(aws.callsTo("PutRolePolicy")).toHaveLength(0);
    expect(aws.callsTo("GetRolePolicy")).toHaveLength(1);
  });

  it("falls back to an aws:TokenIssueTime deny when the list would exceed IAM's 10,240 characters", async () => {
    const w = writer();
    // Fill the list to just under the limit: five more ids no longer fit.
    const old: string[] = [];
    while (JSON.stringify(listed([...old, "x".repeat(26)])).length <= 10_240) old.push(newId(NOW - 60_000));
    aws.rolePolicies.set(ROLE_NAME, new Map([["credbroker-revocations", JSON.stringify(listed(old))]]));
    expect(JSON.stringify(listed(old)).length).toBeLessThanOrEqual(10_240);
    const ids = Array.from({ length: 5 }, () => newId(NOW));
    const modes = await Promise.all(ids.map((id) => w.revoke(ROLE_ARN, id, NOW)));
    // The revocation that overflowed the list is recorded as the fallback; all five are denied.
    expect(modes).toContain("token-issue-time");
    const doc = aws.policyDocument(ROLE_NAME) as { Statement: unknown[] };
    expect(doc.Statement).toContainEqual({
      Sid: "CredbrokerRevokedBefore",
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-30T10:00:01Z" } },
    });
    // The old ids are covered by the issue-time deny and leave the list; the new ones stay listed too.
    expect(JSON.stringify(doc)).not.toContain(old[0]);
    for (const id of ids) expect(JSON.stringify(doc)).toContain(id);
    for (const put of aws.callsTo("PutRolePolicy"))
      expect(put.params["PolicyDocument"]!.length).toBeLessThanOrEqual(10_240);
  });

  it("falls back when IAM refuses the list because the role's other inline policies use the space", async () => {
    // Another inline policy on the role leaving `room` characters of IAM's 10,240 for ours.
    const otherPolicy = (room: number) => {
      const doc = (pad: string) =>
        JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Sid: pad, Effect: "Deny", Action: "*", Resource: "*" }],
        });
      return doc("x".repeat(10_240 - room - doc("").length));
    };
    const earlier = Array.from({ length: 10 }, () => newId(NOW - 60_000));
    const id = newId(NOW);
    aws.rolePolicies.set(
      ROLE_NAME,
      new Map([
        ["other", otherPolicy(100)],
        ["credbroker-revocations", JSON.stringify(listed(earlier))],
      ]),
    );
    // Not even the issue-time deny fits: IAM keeps refusing and the revocation stays pending for the sweep.
    await expect(writer({ maxAttempts: 3 }).revoke(ROLE_ARN, id, NOW)).rejects.toMatchObject({
      code: "dependency_unavailable",
    });
    // With room for the bare issue-time deny only, the broker falls back to it.
    aws.rolePolicies.get(ROLE_NAME)!.set("other", otherPolicy(200));
    expect(await writer().revoke(ROLE_ARN, id, NOW)).toBe("token-issue-time");
    expect(aws.policyDocument(ROLE_NAME)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CredbrokerRevokedBefore",
          Effect: "Deny",
          Action: "*",
          Resource: "*",
          Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-30T10:00:01Z" } },
        },
      ],
    });
  });

  it("prunes an expired grant's id and deletes the policy once it is empty", async () => {
    const [a, b] = [newId(NOW), newId(NOW)];
    const w = writer();
    await w.revoke(ROLE_ARN, a, NOW);
    await w.revoke(ROLE_ARN, b, NOW);
    await w.prune(ROLE_ARN, a, NOW + 3_600_000);
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([b]));
    await w.prune(ROLE_ARN, b, NOW + 3_600_000);
    expect(aws.callsTo("DeleteRolePolicy")).toHaveLength(1);
    expect(aws.policyDocument(ROLE_NAME)).toBeUndefined();
    // Pruning again is a no-op, not an error.
    await w.prune(ROLE_ARN, b, NOW + 3_600_000);
  });

  it("drops ids older than STS's 12-hour maximum and a stale issue-time deny on the next write", async () => {
    const stale = newId(NOW - 13 * 3_600_000);
    aws.rolePolicies.set(
      ROLE_NAME,
      new Map([
        [
          "credbroker-revocations",
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              listed([stale]).Statement[0],
              {
                Sid: "CredbrokerRevokedBefore",
                Effect: "Deny",
                Action: "*",
                Resource: "*",
                Condition: { DateLessThan: { "aws:TokenIssueTime": "2026-11-29T20:00:00Z" } },
              },
            ],
          }),
        ],
      ]),
    );
    const id = newId(NOW);
    await writer().revoke(ROLE_ARN, id, NOW);
    expect(aws.policyDocument(ROLE_NAME)).toEqual(listed([id]));
  });

  it("fails with dependency_unavailable, naming the permission, when IAM denies the broker", async () => {
    aws.failNext("GetRolePolicy", { code: "AccessDenied", status: 403 });
    await expect(writer().revoke(ROLE_ARN, newId(NOW), NOW)).rejects.toMatchObject({
      code: "dependency_unavailable",
      message: expect.stringContaining("iam:GetRolePolicy/PutRolePolicy/DeleteRolePolicy"),
    });
  });
});
