// Synth test helpers: a broker config and its policies in a fresh temp directory, and a function role's
// policy statements read back from the template.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CredbrokerStack } from "../../lib/constructs/credbroker-stack.ts";
import type { BrokerFunctionName } from "../../lib/constructs/credential-broker.ts";

export const DEPLOY_ROLE = "arn:aws:iam::111122223333:role/web-deployer";
export const REPORTS_ROLE = "arn:aws:iam::444455556666:role/reports-writer";

export const VALID_POLICY = `@id("ci-reads-reports")
permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };
`;

export function deployConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.example.com",
    issuers: [
      { name: "github", issuer: "https://token.actions.githubusercontent.com", algorithms: ["RS256"] },
    ],
    workloads: [
      { name: "web-ci", issuer: "github", subject: "repo:acme/web:**", owner: "team-web@acme.example" },
    ],
    tasks: [
      {
        name: "read-reports",
        provider: "jwt",
        audience: "https://reports.acme.example",
        scopes: ["reports:read"],
      },
      { name: "deploy-web", provider: "aws-sts", roleArn: DEPLOY_ROLE },
      { name: "deploy-web-again", provider: "aws-sts", roleArn: DEPLOY_ROLE },
      { name: "write-reports", provider: "aws-sts", roleArn: REPORTS_ROLE, maxDurationSeconds: 3600 },
    ],
    policies: ["policies/*.cedar"],
    ...overrides,
  };
}

/** Returns the path of broker.config.json in a new directory holding `policies/<name>`. */
export function writeConfig(
  config: Record<string, unknown>,
  policies: Record<string, string> = { "main.cedar": VALID_POLICY },
): string {
  const dir = mkdtempSync(join(tmpdir(), "credbroker-synth-"));
  mkdirSync(join(dir, "policies"));
  for (const [name, text] of Object.entries(policies)) writeFileSync(join(dir, "policies", name), text);
  const path = join(dir, "broker.config.json");
  writeFileSync(path, JSON.stringify(config, null, 2));
  return path;
}

export type TemplateResources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

export interface RoleStatement {
  actions: string[];
  /** ARNs as written, with references rendered as the referenced resource's type (plus any suffix). */
  resources: string[];
}

/** The statements of a broker function's role policy, references rendered as readable names. */
export function roleStatements(
  stack: CredbrokerStack,
  resources: TemplateResources,
  name: BrokerFunctionName,
): RoleStatement[] {
  const roleId = stack.getLogicalId(stack.broker.functions[name].role!.node.defaultChild as never);
  const policy = Object.values(resources).find(
    (r) =>
      r.Type === "AWS::IAM::Policy" &&
      JSON.stringify(r.Properties["Roles"]) === JSON.stringify([{ Ref: roleId }]),
  );
  const render = (v: unknown): string => {
    if (typeof v === "string") return v;
    const o = v as Record<string, unknown>;
    if (o["Fn::GetAtt"]) {
      const [id] = o["Fn::GetAtt"] as string[];
      return `${resources[id!]!.Type}`;
    }
    if (o["Fn::Join"]) return (o["Fn::Join"] as [string, unknown[]])[1].map(render).join("");
    return JSON.stringify(v);
  };
  const statements = (policy!.Properties["PolicyDocument"] as { Statement: Record<string, unknown>[] })
    .Statement;
  return statements.map((s) => ({
    actions: [s["Action"]].flat().map(String).sort(),
    resources: [s["Resource"]].flat().map(render).sort(),
  }));
}
