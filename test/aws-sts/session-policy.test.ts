// Rendering a task's session policy: placeholders substituted inside string values only, every value
// checked, and a property that no claim value can change the policy's structure.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SessionPolicy } from "../../lib/config/schema.ts";
import { TemplateValueRejected } from "../../lib/core/errors.ts";
import { renderSessionPolicy } from "../../lib/core/providers/aws-sts/session-policy.ts";
import { TEMPLATE_VALUE_PATTERN } from "../../lib/core/providers/placeholders.ts";

const GRANT = "01m8nyb980r1z76q3mkekkz1ae";
const policy = (resource: string | string[], extra: Record<string, unknown> = {}): SessionPolicy =>
  ({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Action: ["s3:PutObject"], Resource: resource, ...extra }],
  }) as SessionPolicy;

const render = (p: SessionPolicy, claims: Record<string, unknown>) =>
  JSON.parse(renderSessionPolicy("deploy-web", p, { workload: "web-ci", grantId: GRANT, claims }));

describe("session policy rendering", () => {
  it("substitutes workload name, grant id and claims, nested claims addressed with '.'", () => {
    const out = render(
      policy([
        "arn:aws:s3:::b/${workload.name}/${grant.id}/${claim:repository}",
        "arn:aws:s3:::c/${claim:kubernetes.io.namespace}",
      ]),
      { repository: "acme/web", "kubernetes.io": { namespace: "prod" } },
    );
    expect(out.Statement[0].Resource).toEqual([
      `arn:aws:s3:::b/web-ci/${GRANT}/acme/web`,
      "arn:aws:s3:::c/prod",
    ]);
  });

  it("leaves IAM policy variables for AWS to resolve", () => {
    const out = render(policy("arn:aws:s3:::b/${aws:PrincipalTag/credbroker-task}/*"), {});
    expect(out.Statement[0].Resource).toBe("arn:aws:s3:::b/${aws:PrincipalTag/credbroker-task}/*");
  });

  it("substitutes in condition values but never in keys", () => {
    const out = render(policy("*", { Condition: { StringEquals: { "s3:prefix": "${claim:repository}" } } }), {
      repository: "acme/web",
    });
    expect(out.Statement[0].Condition).toEqual({ StringEquals: { "s3:prefix": "acme/web" } });
  });

  it("does not re-read a substituted value as a placeholder", () => {
    // The pattern refuses '$' and braces, so a value can never carry a placeholder in.
    expect(() => render(policy("arn:aws:s3:::b/${claim:a}"), { a: "${grant.id}" })).toThrow(
      TemplateValueRejected,
    );
  });

  it("renders minified JSON", () => {
    const text = renderSessionPolicy("t", policy("arn:aws:s3:::b/*"), {
      workload: "w1",
      grantId: GRANT,
      claims: {},
    });
    expect(text).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:PutObject"],"Resource":"arn:aws:s3:::b/*"}]}',
    );
  });

  it.each([["acme/*"], ['x","Effect":"Allow'], ["a?b"], ["a b"], ["x".repeat(257)], [""], ["é"], ["a\nb"]])(
    "refuses the claim value %j with template_value_rejected",
    (value) => {
      expect(() => render(policy("arn:aws:s3:::b/${claim:repository}"), { repository: value })).toThrow(
        expect.objectContaining({ code: "template_value_rejected" }),
      );
    },
  );

  it("refuses a missing claim", () => {
    expect(() => render(policy("arn:aws:s3:::b/${claim:repository}"), {})).toThrow(
      expect.objectContaining({ code: "template_value_rejected" }),
    );
  });

  it("refuses a policy over 2,048 characters, naming the task", () => {
    expect(() =>
      render(
        policy(
          "arn:aws:s3:::b/${claim:a}/${claim:a}/${claim:a}/${claim:a}/${claim:a}/${claim:a}/${claim:a}/${claim:a}/${claim:a}",
        ),
        { a: "x".repeat(256) },
      ),
    ).toThrow(
      expect.objectContaining({
        code: "session_policy_too_large",
        message: expect.stringContaining("task deploy-web"),
      }),
    );
  });
});

describe("property: no claim value changes the policy's structure", () => {
  // Same shape with every placeholder replaced by a marker: the structure a rendering must keep.
  const TEMPLATE = policy(
    ["arn:aws:s3:::acme/${claim:repository}/*", "arn:aws:s3:::logs/${claim:repository}"],
    {
      Condition: { StringLike: { "s3:prefix": ["${claim:repository}/*"] } },
    },
  );
  const shape = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(shape)
      : node !== null && typeof node === "object"
        ? Object.fromEntries(Object.entries(node).map(([k, v]) => [k, shape(v)]))
        : typeof node;

  const hostile = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: fc.constantFrom(...'"\\{}[]:,*?$ /\n\t\u2028aZ09-_.@=+'), maxLength: 60 }),
    fc.stringMatching(TEMPLATE_VALUE_PATTERN),
    fc.constantFrom('x","Effect":"Allow', "acme/*", "${aws:username}", "${grant.id}", "\u0000", "a\\u0022b"),
    fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 })),
  );

  it("either renders the value as one literal string in each place, or refuses the request", () => {
    fc.assert(
      fc.property(hostile, (value) => {
        let text: string;
        try {
          text = renderSessionPolicy("deploy-web", TEMPLATE, {
            workload: "web-ci",
            grantId: GRANT,
            claims: { repository: value },
          });
        } catch (err) {
          expect(err).toMatchObject({
            code: expect.stringMatching(/^(template_value_rejected|session_policy_too_large)$/),
          });
          return;
        }
        const out = JSON.parse(text);
        const literal = typeof value === "string" ? value : JSON.stringify(value);
        expect(TEMPLATE_VALUE_PATTERN.test(literal)).toBe(true);
        expect(shape(out)).toEqual(shape(TEMPLATE));
        expect(out.Statement[0].Resource).toEqual([
          `arn:aws:s3:::acme/${literal}/*`,
          `arn:aws:s3:::logs/${literal}`,
        ]);
        expect(out.Statement[0].Condition).toEqual({ StringLike: { "s3:prefix": [`${literal}/*`] } });
        expect(out.Statement[0].Effect).toBe("Allow");
        expect(out.Statement).toHaveLength(1);
      }),
      { numRuns: 2000 },
    );
  });
});
