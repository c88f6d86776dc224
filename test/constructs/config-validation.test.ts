// A bad config or policy must stop `cdk synth` before anything is bundled, naming the file and line.
import { App, Stack } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/resolve.ts";
import { CredentialBroker } from "../../lib/constructs/credential-broker.ts";
import { deployConfig, VALID_POLICY, writeConfig } from "./support.ts";

const build = (configPath: string) =>
  new CredentialBroker(new Stack(new App({ context: { "aws:cdk:bundling-stacks": [] } }), "S"), "Broker", {
    configPath,
  });

describe("CredentialBroker config validation at synth", () => {
  it("fails synth on an invalid Cedar policy with the policy file and line", () => {
    const path = writeConfig(deployConfig(), {
      "main.cedar": VALID_POLICY,
      "broken.cedar": `@id("typo")\npermit (principal, action == Action::"issue", resource)\nwhen { principal.nmae == "web-ci" };\n`,
    });
    let error: unknown;
    try {
      build(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(path);
    expect((error as ConfigError).problems.join("\n")).toMatch(/policies\/broken\.cedar:3:\d+: /);
  });

  it("fails synth on a Cedar syntax error with the policy file and line", () => {
    const path = writeConfig(deployConfig(), {
      "main.cedar": `${VALID_POLICY}\npermit (principal, action, resource) when {`,
    });
    expect(() => build(path)).toThrow(/policies\/main\.cedar:\d+:\d+: /);
  });

  it("fails synth on a schema error naming the config path", () => {
    const path = writeConfig(deployConfig({ audience: "" }));
    expect(() => build(path)).toThrow(/audience: /);
  });

  it("fails synth when the policy glob matches nothing", () => {
    const path = writeConfig(deployConfig({ policies: ["nowhere/*.cedar"] }));
    expect(() => build(path)).toThrow(/no file matches nowhere\/\*\.cedar/);
  });

  it("fails synth when the config file does not exist", () => {
    expect(() => build("/nonexistent/broker.config.yaml")).toThrow(/cannot read the file: ENOENT/);
  });

  it("accepts the demo config shipped in examples/", () => {
    const broker = build("examples/broker.config.yaml");
    expect(broker.resolvedConfig.config.tasks.map((t) => t.name)).toContain("deploy-web");
  });
});
