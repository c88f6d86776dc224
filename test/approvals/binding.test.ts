// Issue 27: an approval is bound to what was asked, the asking token's subject and the credential request it
// renders. Another run of a glob workload, or a token that renders other repositories, collects nothing.
import { afterAll, describe, expect, it } from "vitest";
import type { TaskConfig } from "../../lib/config/schema.ts";
import { renderedRequestSha256 } from "../../lib/core/approvals/binding.ts";
import {
  createGithubProvider,
  type GithubProviderDeps,
} from "../../lib/core/providers/github/github-provider.ts";
import { closeSharedDynamo } from "../support/broker.ts";
import { createApprovalBroker } from "./support.ts";

afterAll(closeSharedDynamo);

describe("an approval given to one run of a glob workload", () => {
  it("is not collected by another run (another subject): invalid_grant, and no grant", async () => {
    const b = await createApprovalBroker({ approvals: 1 });
    const first = await b.workloadToken({ sub: "repo:acme/web:run:1" });
    const asked = await b.request(first);
    expect(asked.status).toBe(400);
    const id = asked.body["approval_id"] as string;
    expect((await b.approve(id, await b.approverToken("alice"))).body["status"]).toBe("approved");

    b.clock.advance(6_000);
    const other = await b.workloadToken({ sub: "repo:acme/web:run:2" });
    const stolen = await b.request(other, { approval_id: id });
    expect(stolen.status).toBe(400);
    expect(stolen.body["error"]).toBe("invalid_grant");
    expect((await b.store.approvals.get(id))?.grantId).toBeUndefined();

    // The run that asked still collects it.
    const own = await b.request(await b.workloadToken({ sub: "repo:acme/web:run:1" }), { approval_id: id });
    expect(own.status).toBe(200);
    expect(own.body["grant_id"]).toEqual(expect.any(String));
  });

  it("leaves another run's own request its own: it gets a new approval id, not the first run's", async () => {
    const b = await createApprovalBroker({ approvals: 1 });
    const one = await b.request(await b.workloadToken({ sub: "repo:acme/web:run:1" }));
    const two = await b.request(await b.workloadToken({ sub: "repo:acme/web:run:2" }));
    expect(one.body["approval_id"]).toEqual(expect.any(String));
    expect(two.body["approval_id"]).toEqual(expect.any(String));
    expect(two.body["approval_id"]).not.toBe(one.body["approval_id"]);
    // The same run asking again gets its own request back.
    const again = await b.request(await b.workloadToken({ sub: "repo:acme/web:run:1" }));
    expect(again.body["approval_id"]).toBe(one.body["approval_id"]);
  });
});

describe("the request an approval is bound to", () => {
  const github = createGithubProvider({} as GithubProviderDeps);
  const task = {
    name: "push-docs",
    provider: "github",
    app: "acme-ci",
    owner: "acme",
    repositories: ["${claim:repository}"],
    permissions: { contents: "write" },
    maxDurationSeconds: 900,
    sensitivity: "medium",
  } as unknown as TaskConfig;
  const bound = (claims: Record<string, unknown>) =>
    renderedRequestSha256(github, task, "docs-ci", claims, 900);

  it("is the same for the same rendered repositories, whatever else the token carries", () => {
    expect(bound({ repository: "acme/docs", run_id: "1" })).toBe(
      bound({ repository: "acme/docs", run_id: "2" }),
    );
  });

  it("differs when the token renders another repository", () => {
    expect(bound({ repository: "acme/docs" })).not.toBe(bound({ repository: "acme/infra" }));
  });
});
