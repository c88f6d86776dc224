// Policy documents in the three forms IAM data arrives in, what makes a holder privileged, and whom a
// trust policy lets in.
import { describe, expect, it } from "vitest";
import { InventoryError } from "../../lib/core/inventory/errors.ts";
import {
  policyStatements,
  principalKey,
  privilegeFindings,
  trustedPrincipals,
} from "../../lib/core/inventory/policy-document.ts";

const doc = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "iam:*", Resource: "*" }] };

describe("policy documents", () => {
  it.each([
    ["decoded (the CLI's JSON)", doc],
    ["JSON text", JSON.stringify(doc)],
    ["URL-encoded (the IAM API)", encodeURIComponent(JSON.stringify(doc))],
  ])("reads a document %s", (_form, raw) => {
    expect(privilegeFindings(policyStatements(raw, "x"))).toEqual(["allows iam:*"]);
  });

  it("refuses a document that is neither, naming where it was", () => {
    expect(() => policyStatements("%7Bnot json", "role r trust policy")).toThrow(InventoryError);
    expect(() => policyStatements("%7Bnot json", "role r trust policy")).toThrow(/^role r trust policy: /);
  });

  it.each([
    [{ Effect: "Allow", Action: "*", Resource: "arn:aws:s3:::b" }, ["allows *"]],
    [{ Effect: "Allow", Action: ["IAM:*"], Resource: "arn:aws:iam::1:role/x" }, ["allows iam:*"]],
    [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }, ["allows sts:AssumeRole on *"]],
    [{ Effect: "Allow", Action: "sts:*", Resource: "*" }, ["allows sts:AssumeRole on *"]],
    [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "arn:aws:iam::1:role/x" }, []],
    [{ Effect: "Allow", Action: "iam:Pass*", Resource: ["*"] }, ["allows iam:PassRole on *"]],
    [{ Effect: "Allow", Action: "iam:PassRole", Resource: "arn:aws:iam::1:role/x" }, []],
    [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }, ["allows every action but iam:* on *"]],
    [{ Effect: "Deny", Action: "*", Resource: "*" }, []],
    [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }, []],
  ])("judges %j", (statement, findings) => {
    expect(privilegeFindings(policyStatements({ Statement: statement }, "x"))).toEqual(findings);
  });

  it("names every principal a trust policy lets assume the role", () => {
    const trust = {
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: ["123456789012", "arn:aws:iam::111122223333:role/a"] },
          Action: "sts:AssumeRole",
        },
        {
          Effect: "Allow",
          Principal: { Service: "ec2.amazonaws.com" },
          Action: ["sts:AssumeRole", "sts:TagSession"],
        },
        {
          Effect: "Allow",
          Principal: { Federated: "arn:aws:iam::111122223333:saml-provider/okta" },
          Action: "sts:AssumeRoleWithSAML",
        },
        { Effect: "Allow", Principal: { AWS: "arn:aws:iam::111122223333:user/x" }, Action: "sts:TagSession" },
        { Effect: "Deny", Principal: "*", Action: "sts:AssumeRole" },
      ],
    };
    expect(trustedPrincipals(policyStatements(trust, "t")).map((p) => p.label)).toEqual([
      "trusted by account 123456789012 (any principal it allows)",
      "trusted by arn:aws:iam::111122223333:role/a",
      "trusted by service ec2.amazonaws.com",
      "trusted by saml-provider/okta",
    ]);
  });

  it("reads an assumed-role session and its role, whatever the role's path, as one principal", () => {
    expect(principalKey("arn:aws:sts::111122223333:assumed-role/broker/cb-123")).toBe(
      principalKey("arn:aws:iam::111122223333:role/service/broker"),
    );
  });
});
