// `provider: secret` in the config (CONTRACT §15): defaults, limits, replaces, and refusals naming the path.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { runCli } from "../client/run-cli.ts";
import { baseConfig } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { DATADOG } from "./support.ts";

const issuer = await createTestIssuer();
const load = (task: Record<string, unknown>) =>
  resolveConfig(
    baseConfig(issuer, { tasks: [{ name: "k", provider: "secret", secretArn: DATADOG, ...task }] }),
    [{ file: "p.cedar", text: "" }],
    "t",
  );
const problem = (task: Record<string, unknown>): string => {
  try {
    load(task);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("the config loaded");
};

describe("secret task config", () => {
  it("fills in the defaults: env SECRET, no rotation after use, 900 s, medium", () => {
    expect(load({}).config.tasks[0]).toEqual({
      name: "k",
      provider: "secret",
      secretArn: DATADOG,
      env: "SECRET",
      rotateAfterUse: false,
      maxDurationSeconds: 900,
      sensitivity: "medium",
    });
  });

  it("takes jsonKey, env, rotateAfterUse, kmsKeyArn, replaces and approval", () => {
    const task = {
      jsonKey: "api_key",
      env: "DD_API_KEY",
      rotateAfterUse: true,
      kmsKeyArn: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      maxDurationSeconds: 43_200,
      sensitivity: "high",
      replaces: ["arn:aws:iam::111122223333:user/datadog-ci"],
    };
    expect(load(task).config.tasks[0]).toMatchObject(task);
  });

  it.each([
    [{ secretArn: "arn:aws:s3:::bucket" }, "tasks[0].secretArn"],
    [{ secretArn: undefined }, "tasks[0].secretArn"],
    [{ maxDurationSeconds: 59 }, "tasks[0].maxDurationSeconds"],
    [{ maxDurationSeconds: 43_201 }, "tasks[0].maxDurationSeconds"],
    [{ jsonKey: "" }, "tasks[0].jsonKey"],
    [{ kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/abc" }, "tasks[0].kmsKeyArn"],
    [{ kmsKeyArn: "alias/mine" }, "tasks[0].kmsKeyArn"],
    [{ replaces: ["not-an-arn"] }, "tasks[0].replaces"],
    [{ sessionPolicy: {} }, "sessionPolicy"],
  ])("refuses %j, naming %s", (task, path) => {
    expect(problem(task)).toContain(path);
  });

  it("policy validate checks a secret task too", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-secret-config-"));
    await writeFile(join(dir, "p.cedar"), 'permit (principal, action, resource == Task::"k");');
    const config = (task: Record<string, unknown>) =>
      stringify(
        baseConfig(issuer, {
          tasks: [{ name: "k", provider: "secret", secretArn: DATADOG, ...task }],
          policies: ["p.cedar"],
        }),
      );
    await writeFile(join(dir, "good.yaml"), config({ rotateAfterUse: true }));
    await writeFile(join(dir, "bad.yaml"), config({ env: "PATH" }));
    const good = await runCli(["policy", "validate", "--config", join(dir, "good.yaml")]);
    expect(good.code).toBe(0);
    const bad = await runCli(["policy", "validate", "--config", join(dir, "bad.yaml")]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("tasks[0].env");
  });
});

describe("the report on secret tasks", () => {
  it("says a secret task without rotateAfterUse leaves copies that may live on", async () => {
    const { broadTasks } = await import("../../lib/core/report/broad-tasks.ts");
    const config = resolveConfig(
      baseConfig(issuer, {
        tasks: [
          { name: "plain", provider: "secret", secretArn: DATADOG },
          { name: "rotated", provider: "secret", secretArn: DATADOG, rotateAfterUse: true },
        ],
      }),
      [{ file: "p.cedar", text: "" }],
      "t",
    ).config;
    const found = broadTasks(config.tasks);
    expect(found.map((t) => t.task)).toEqual(["plain"]);
    expect(found[0]!.findings[0]!.reason).toContain("may live on");
  });
});
