// Writes a broker config and its policies into a fresh temp directory, for synth tests.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

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
