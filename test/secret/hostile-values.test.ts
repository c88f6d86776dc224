// A secret's value is input the broker does not control (whoever wrote the secret chose it): whatever it
// holds — quotes, `$(…)`, newlines, a megabyte — `eval "$(credbroker exchange --format env)"` sets the task's
// variable to exactly that value and runs nothing; a config cannot name a variable that would take over
// the shell or the runner.
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { envLines } from "../../lib/cli/exchange.ts";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { baseConfig } from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";
import { DATADOG } from "./support.ts";

const bash = (script: string) =>
  new Promise<{ code: number; stdout: string }>((res) =>
    execFile("bash", ["-c", script], { timeout: 10_000 }, (err, stdout) =>
      res({ code: err ? 1 : 0, stdout }),
    ),
  );

const answer = (value: string, env = "DD_API_KEY") => ({
  access_token: value,
  issued_token_type: "urn:credbroker:token-type:secret",
  token_type: "N_A",
  expires_in: 900,
  expires_at: "2026-11-30T10:15:00Z",
  scope: "datadog-key",
  grant_id: "01jf0000000000000000000000",
  secret: { name: "ci/datadog", versionId: "v1", env },
});

describe("hostile secret values and names", () => {
  it.each([
    ["single quotes", "it's 'quoted'"],
    ["command substitution", "$(touch /tmp/cb-pwned) `id` ${HOME}"],
    ["newlines", "line one\nline two\n"],
    ["a PEM block", "-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBg==\n-----END PRIVATE KEY-----"],
    ["shell operators", "a; echo pwned && exit 3 | cat > /dev/null"],
  ])("%s: eval sets exactly the value and runs nothing", async (_, value) => {
    const lines = envLines(answer(value));
    const run = await bash(`${lines}\nprintf '%s' "$DD_API_KEY"`);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(value);
  });

  it("refuses an answer whose variable name is not a plain name", () => {
    expect(() => envLines(answer("v", "X=1; touch /tmp/cb-pwned; Y"))).toThrow(/valid environment variable/);
  });

  it.each([
    "PATH",
    "LD_PRELOAD",
    "GITHUB_ENV",
    "BASH_ENV",
    "NODE_OPTIONS",
    "CREDBROKER_GRANT_ID",
    "1BAD",
    "a-b",
  ])("a config naming %s as env fails at load, naming the path", async (env) => {
    const issuer = await createTestIssuer();
    const raw = baseConfig(issuer, {
      tasks: [{ name: "k", provider: "secret", secretArn: DATADOG, env }],
    });
    expect(() => resolveConfig(raw, [{ file: "p.cedar", text: "" }], "t")).toThrow(ConfigError);
    try {
      resolveConfig(raw, [{ file: "p.cedar", text: "" }], "t");
    } catch (err) {
      expect((err as Error).message).toContain("tasks[0].env");
    }
  });
});
