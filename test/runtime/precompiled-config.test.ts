// A Lambda cold start trusts the policies synth compiled, unless the bundle's texts no longer match them.
import { describe, expect, it } from "vitest";
import { loadConfigFileSync, toConfigBundle } from "../../lib/config/load-sync.ts";
import { resolvePrecompiled, validateConfig } from "../../lib/config/resolve.ts";

const bundle = () =>
  JSON.parse(JSON.stringify(toConfigBundle(loadConfigFileSync("examples/broker.config.yaml"))));

describe("bundled config", () => {
  it("carries the compiled policies and the version, and a cold start uses them as they are", () => {
    const b = bundle();
    expect(Object.keys(b.policies.policies)).toContain("reports-readers");
    // Marked so we can see the compiled form was taken rather than recompiled from the texts.
    b.policies.policies["reports-readers"].file = "compiled-at-synth";
    const resolved = resolvePrecompiled(b, "bundle");
    expect(resolved.version).toBe(b.version);
    expect(resolved.policies.policies["reports-readers"]?.file).toBe("compiled-at-synth");
  });

  it("compiles afresh when a policy text changed after synth", () => {
    const b = bundle();
    b.policyFiles[0].text = `@id("only-this") permit (principal, action, resource);`;
    b.policies.policies["reports-readers"].file = "compiled-at-synth";
    const resolved = resolvePrecompiled(b, "bundle");
    expect(resolved.version).not.toBe(b.version);
    expect(Object.keys(resolved.policies.policies)).toContain("only-this");
  });

  it("takes the config as synth validated it, the same as validating it again would give", () => {
    const b = bundle();
    const resolved = resolvePrecompiled(b, "bundle");
    expect(resolved.version).toBe(b.version);
    expect(JSON.parse(JSON.stringify(resolved.config))).toEqual(
      JSON.parse(JSON.stringify(validateConfig(b.config, "bundle"))),
    );
  });

  it("validates a config edited after synth: an invalid value is refused, a valid one gets a new version", () => {
    const bad = bundle();
    bad.config.issuers[0].maxTokenAgeSeconds = "soon";
    expect(() => resolvePrecompiled(bad, "bundle")).toThrow(/maxTokenAgeSeconds/);

    const edited = bundle();
    edited.config.issuers[0].maxTokenAgeSeconds = 600;
    const resolved = resolvePrecompiled(edited, "bundle");
    expect(resolved.version).not.toBe(edited.version);
    expect(resolved.config.issuers[0]?.maxTokenAgeSeconds).toBe(600);
  });

  it("validates a hand-made bundle without compiled policies, rejecting a bad policy", () => {
    const b = bundle();
    delete b.policies;
    b.policyFiles[0].text = "permit (principal, action, resource) when { principal.nope };";
    expect(() => resolvePrecompiled(b, "bundle")).toThrow(/nope/);
  });
});
