// A Lambda function's config is the bundle synth wrote, checked by its version instead of validated again
// (no zod schema, no Cedar compile at cold start); a bundle that does not match its version is refused.
import { describe, expect, it } from "vitest";
import { loadConfigFileSync, toConfigBundle } from "../../lib/config/load-sync.ts";
import { resolveShipped, ShippedConfigMismatch } from "../../lib/config/shipped.ts";

const bundle = () =>
  JSON.parse(JSON.stringify(toConfigBundle(loadConfigFileSync("examples/broker.config.yaml"))));

describe("the shipped config", () => {
  it("is taken as synth wrote it: the validated config and the compiled policies", () => {
    const b = bundle();
    b.policies.policies["reports-readers"].file = "compiled-at-synth";
    const shipped = resolveShipped(b, "bundle");
    expect(shipped.version).toBe(b.version);
    expect(shipped.config).toEqual(loadConfigFileSync("examples/broker.config.yaml").config);
    expect(shipped.policies.policies["reports-readers"]?.file).toBe("compiled-at-synth");
  });

  it.each([
    [
      "a policy text changed after synth",
      (b: Record<string, unknown>) => {
        (b["policyFiles"] as { text: string }[])[0]!.text = `@id("x") permit (principal, action, resource);`;
      },
    ],
    [
      "a config value changed after synth",
      (b: Record<string, unknown>) => {
        (b["config"] as { audience: string }).audience = "someone-else";
      },
    ],
    [
      "the compiled policies are missing",
      (b: Record<string, unknown>) => {
        delete b["policies"];
      },
    ],
    [
      "the version is missing",
      (b: Record<string, unknown>) => {
        delete b["version"];
      },
    ],
  ])("is refused when %s", (_what, edit) => {
    const b = bundle();
    edit(b);
    expect(() => resolveShipped(b, "credbroker.config.json")).toThrow(ShippedConfigMismatch);
    expect(() => resolveShipped(b, "credbroker.config.json")).toThrow(
      /credbroker.config.json does not match/,
    );
  });
});
