import { describe, expect, it } from "vitest";
import { createWorkloadMatcher } from "../../lib/core/identity/workloads.ts";

const matcher = createWorkloadMatcher([
  { name: "prod-deploy", issuer: "gh", subject: "repo:acme/web:environment:production", disabled: false },
  { name: "web-any-branch", issuer: "gh", subject: "repo:acme/web:ref:refs/heads/*", disabled: false },
  { name: "web-anything", issuer: "gh", subject: "repo:acme/web:**", disabled: false },
  { name: "k8s", issuer: "eks", subject: "system:serviceaccount:batch:*", disabled: false },
]);

describe("workload matching", () => {
  it.each([
    ["gh", "repo:acme/web:environment:production", "prod-deploy"],
    ["gh", "repo:acme/web:ref:refs/heads/main", "web-any-branch"],
    ["gh", "repo:acme/web:pull_request", "web-anything"],
    ["gh", "repo:acme/web:ref:refs/heads/feature/x", "web-any-branch"],
    ["eks", "system:serviceaccount:batch:cron", "k8s"],
  ])("maps %s %s to %s (first match in config order wins)", (issuer, subject, expected) => {
    expect(matcher.match(issuer, subject)?.name).toBe(expected);
  });

  it.each([
    ["gh", "repo:acme/webx:pull_request"],
    ["gh", "repo:acme/web"],
    ["eks", "system:serviceaccount:batch:cron:extra"],
    ["gh", "system:serviceaccount:batch:cron"],
    ["other", "repo:acme/web:environment:production"],
  ])("matches nothing for %s %s", (issuer, subject) => {
    expect(matcher.match(issuer, subject)).toBeUndefined();
  });

  it("treats regex characters in subjects literally", () => {
    const m = createWorkloadMatcher([{ name: "x", issuer: "i", subject: "a.b+(c)", disabled: false }]);
    expect(m.match("i", "a.b+(c)")?.name).toBe("x");
    expect(m.match("i", "aXb+(c)")).toBeUndefined();
  });
});
