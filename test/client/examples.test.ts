// The shipped client examples stay in step with the CLI and the action: every credential_process line
// parses as `credbroker credential-process` arguments, the token path and audience match the projected
// volume, and the workflow only uses inputs the action declares.
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { CLIENT_OPTIONS } from "../../lib/cli/client-common.ts";

/** Splits a credential_process line the way the AWS SDKs do for these simple lines (double quotes only). */
const argv = (line: string) => [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);

function credentialProcessArgs(line: string) {
  const [bin, command, ...rest] = argv(line);
  expect([bin, command]).toEqual(["credbroker", "credential-process"]);
  return parseArgs({ args: rest, options: CLIENT_OPTIONS, strict: true }).values;
}

describe("examples/kubernetes", () => {
  it("mounts a projected token for the broker's audience where credential_process reads it", async () => {
    const docs = parseAllDocuments(await readFile("examples/kubernetes/deployment.yaml", "utf8")).map((d) =>
      d.toJS(),
    );
    const configMap = docs.find((d) => d.kind === "ConfigMap");
    const deployment = docs.find((d) => d.kind === "Deployment");
    const line = (configMap.data.config as string).match(/^credential_process = (.*)$/m)![1]!;
    const flags = credentialProcessArgs(line);
    const projected = deployment.spec.template.spec.volumes.find((v: { projected?: unknown }) => v.projected)
      .projected.sources[0].serviceAccountToken;
    expect(projected.audience).toBe("credbroker");
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find(
      (m: { name: string }) => m.name === "credbroker-token",
    );
    expect(flags["token-file"]).toBe(`${mount.mountPath}/${projected.path}`);
  });

  it("has an AWS config file whose every credential_process line parses", async () => {
    const lines = [
      ...(await readFile("examples/kubernetes/aws-config", "utf8")).matchAll(/^credential_process = (.*)$/gm),
    ].map((m) => m[1]!);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(credentialProcessArgs(line)).toMatchObject({
        url: expect.stringMatching(/^https:/),
        task: expect.any(String),
      });
  });
});

describe("examples/github-actions/deploy.yml", () => {
  it("grants id-token: write and passes the action only inputs it declares", async () => {
    const workflow = parseYaml(await readFile("examples/github-actions/deploy.yml", "utf8"));
    const action = parseYaml(await readFile("action.yml", "utf8"));
    expect(workflow.permissions["id-token"]).toBe("write");
    const uses = workflow.jobs.deploy.steps.filter((s: { uses?: string }) => s.uses?.includes("credbroker"));
    expect(uses.length).toBeGreaterThan(0);
    for (const step of uses) {
      for (const input of Object.keys(step.with)) expect(Object.keys(action.inputs)).toContain(input);
      for (const [name, spec] of Object.entries(action.inputs as Record<string, { required?: boolean }>))
        if (spec.required) expect(step.with).toHaveProperty(name);
    }
  });
});
