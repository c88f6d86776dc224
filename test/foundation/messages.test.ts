// Issue 27: a refusal names what failed, in the words of the thing that failed.
import { describe, expect, it } from "vitest";
import { translateStsError } from "../../lib/aws/sts-role-assumer.ts";
import { renderSessionPolicy } from "../../lib/core/providers/aws-sts/session-policy.ts";
import { renderRepositories } from "../../lib/core/providers/github/repositories.ts";

describe("messages", () => {
  it("a GitHub repository value is refused as a repository name, not as a session policy", () => {
    expect(() =>
      renderRepositories(["${claim:repository}"], "acme", {
        workload: "w",
        grantId: "g",
        claims: { repository: "acme/web docs" },
      }),
    ).toThrow(
      "the value for ${claim:repository} is missing or contains characters not allowed in a GitHub repository name",
    );
  });

  it("a session policy value is still refused as a session policy value", () => {
    expect(() =>
      renderSessionPolicy(
        "deploy",
        {
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "${claim:x}" }],
        },
        { workload: "w", grantId: "g", claims: { x: "a b" } },
      ),
    ).toThrow(/not allowed in a session policy/);
  });

  it("missing AWS credentials are named as missing, not as STS refusing them", () => {
    const err = translateStsError("deploy", { name: "CredentialsProviderError" });
    expect(err.message).toContain("the broker has no AWS credentials");
    expect(err.message).not.toContain("refused");
    expect(translateStsError("deploy", { name: "ExpiredToken" }).message).toContain(
      "refused the broker's own AWS credentials",
    );
  });
});
