// The shipped client examples stay in step with the CLI and the action: every credential_process line
// parses as `credbroker credential-process` arguments, the token path and audience match the projected
// volume, a read-only root comes with a writable temp dir, the workflow only uses inputs the action
// declares, and credbroker is only ever installed from a pinned commit.
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

  it("gives every container with a read-only root a writable temp dir (node tools and the AWS CLI need one)", async () => {
    const docs = parseAllDocuments(await readFile("examples/kubernetes/deployment.yaml", "utf8")).map((d) =>
      d.toJS(),
    );
    const pod = docs.find((d) => d.kind === "Deployment").spec.template.spec as Pod;
    const readOnly = [...pod.containers, ...(pod.initContainers ?? [])].filter(
      (c) => c.securityContext?.readOnlyRootFilesystem === true,
    );
    // The example shows a hardened pod; the rule below is what keeps it working.
    expect(readOnly.length).toBeGreaterThan(0);
    for (const container of readOnly) {
      const tmp = container.env?.find((e) => e.name === "TMPDIR")?.value ?? "/tmp";
      const mount = container.volumeMounts?.find((m) => m.mountPath === tmp);
      expect(mount, `${container.name} mounts nothing at ${tmp}`).toBeDefined();
      expect(mount!.readOnly).not.toBe(true);
      expect(pod.volumes.find((v) => v.name === mount!.name)).toHaveProperty("emptyDir");
    }
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

interface Pod {
  containers: Container[];
  initContainers?: Container[];
  volumes: { name: string; emptyDir?: unknown }[];
}
interface Container {
  name: string;
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  securityContext?: { readOnlyRootFilesystem?: boolean };
}

// The project publishes nothing to the npm registry ("private": true), so "credbroker" there is whoever
// registers it; the workflow's job can mint OIDC tokens. A commit sha is the only ref that cannot move.
const PINNED = /@(?:<COMMIT_SHA>|[0-9a-f]{40})$/;
describe.each([
  "examples/kubernetes/deployment.yaml",
  "examples/github-actions/deploy.yml",
  "examples/github-actions/policy-impact.yml",
  "docs/clients.md",
])("installing credbroker in %s", (file) => {
  it("never runs it by bare name through npx", async () => {
    const text = await readFile(file, "utf8");
    const runs = text.split("\n").filter((line) => /\bnpx\b/.test(line) && /\bcredbroker\b/.test(line));
    for (const line of runs) expect(line).toContain("--no-install");
  });

  it("installs it only from a pinned commit", async () => {
    const text = await readFile(file, "utf8");
    const installs = [...text.matchAll(/\bnpm (?:install|i|add)\b[^\n]*/g)]
      .map((m) => m[0])
      .filter((line) => line.includes("credbroker"));
    // A git URL at a commit, or a tarball packed from a checked-out commit.
    for (const line of installs)
      expect(line).toMatch(
        /"git\+https:\/\/[^"#]+#(?:<COMMIT_SHA>|[0-9a-f]{40})"|\.\/credbroker-[\w.-]+\.tgz/,
      );
  });

  it("uses the action only at a commit", async () => {
    const text = await readFile(file, "utf8");
    for (const m of text.matchAll(/uses:\s*([^\s`]*\/credbroker@[^\s`]*)/g)) expect(m[1]).toMatch(PINNED);
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
