// How the inventory reads who may read a secret (CONTRACT §15): Resource patterns matched as IAM matches
// them, Action and NotAction, explicit Denies, and the resource policy's fence around the broker.
import { describe, expect, it } from "vitest";
import {
  iamMatch,
  identityAllows,
  resourceDenies,
  resourceStatements,
  secretStatements,
  servesSecret,
} from "../../lib/core/inventory/secrets.ts";

const ARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-AbCdEf";
const BROKER = "arn:aws:iam::111122223333:role/credbroker/credbroker-token";

describe("Resource patterns, as IAM matches them", () => {
  it.each([
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/*", true],
    ["arn:aws:secretsmanager:*:111122223333:secret:ci/datadog-*", true],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-??????", true],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-?????", false],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:*", true],
    ["*", true],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:CI/*", false],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ops/*", false],
    ["arn:aws:secretsmanager:us-east-1:444455556666:secret:ci/*", false],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog", false],
  ])("%s matches ci/datadog-AbCdEf: %s", (pattern, expected) => {
    expect(iamMatch(pattern, ARN)).toBe(expected);
  });

  it.each([
    [ARN, true],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog", true],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/data", false],
    ["arn:aws:secretsmanager:us-east-1:111122223333:secret:ci/datadog-AbCdE", false],
  ])("a secret task naming %s serves it: %s", (taskArn, expected) => {
    expect(servesSecret(taskArn, ARN)).toBe(expected);
  });
});

describe("identity policies", () => {
  const read = (statement: Record<string, unknown>) => secretStatements([statement], "inline policy p");
  it.each([
    [
      {
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        Resource: "arn:aws:secretsmanager:*:*:secret:ci/*",
      },
      true,
    ],
    [{ Effect: "Allow", Action: "secretsmanager:*", Resource: "*" }, true],
    [{ Effect: "Allow", Action: "*", Resource: "*" }, true],
    [{ Effect: "Allow", Action: "SecretsManager:Get*", Resource: "*" }, true],
    [{ Effect: "Allow", Action: "secretsmanager:DescribeSecret", Resource: "*" }, false],
    [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }, true],
    [{ Effect: "Allow", NotAction: "secretsmanager:*", Resource: "*" }, false],
    [
      {
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        NotResource: "arn:aws:secretsmanager:*:*:secret:ops/*",
      },
      true,
    ],
    [
      {
        Effect: "Allow",
        Action: "secretsmanager:GetSecretValue",
        NotResource: "arn:aws:secretsmanager:*:*:secret:ci/*",
      },
      false,
    ],
  ])("%j reads ci/datadog: %s", (statement, expected) => {
    expect(identityAllows(read(statement), ARN) !== undefined).toBe(expected);
  });

  it("an explicit Deny wins; a Deny with a condition is not counted on", () => {
    const allow = { Effect: "Allow", Action: "secretsmanager:*", Resource: "*" };
    const deny = {
      Effect: "Deny",
      Action: "secretsmanager:GetSecretValue",
      Resource: "arn:aws:secretsmanager:*:*:secret:ci/*",
    };
    expect(identityAllows(secretStatements([allow, deny], "p"), ARN)).toBeUndefined();
    const conditional = { ...deny, Condition: { Bool: { "aws:MultiFactorAuthPresent": "false" } } };
    expect(identityAllows(secretStatements([allow, conditional], "p"), ARN)).toBe("p");
    const conditionalAllow = {
      ...allow,
      Condition: { StringEquals: { "aws:RequestedRegion": "us-east-1" } },
    };
    expect(identityAllows(secretStatements([conditionalAllow], "p"), ARN)).toBe("p (with a condition)");
  });
});

describe("resource policies", () => {
  const fence = resourceStatements(
    {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Deny",
          Principal: "*",
          Action: "secretsmanager:GetSecretValue",
          Resource: "*",
          Condition: { StringNotEquals: { "aws:PrincipalArn": [BROKER] } },
        },
      ],
    },
    "fence",
  );
  it("the fence denies everyone but the broker", () => {
    expect(resourceDenies(fence, "arn:aws:iam::111122223333:role/ci-runner")).toBe(true);
    expect(resourceDenies(fence, BROKER)).toBe(false);
    expect(resourceDenies(fence, "arn:aws:sts::111122223333:assumed-role/credbroker-token/session")).toBe(
      false,
    );
  });

  it("reads an account id as its root, and ignores statements about other actions", () => {
    const statements = resourceStatements(
      JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: ["444455556666"] },
            Action: "secretsmanager:GetSecretValue",
            Resource: "*",
          },
          { Effect: "Allow", Principal: "*", Action: "secretsmanager:DescribeSecret", Resource: "*" },
        ],
      }),
      "p",
    );
    expect(statements).toEqual([
      { effect: "Allow", principals: ["arn:aws:iam::444455556666:root"], conditional: false },
    ]);
  });
});
