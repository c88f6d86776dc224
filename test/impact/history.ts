// A recorded history for `policy impact`: requests made through the real token path (handlers over
// dynalite, real JWTs, real Cedar) at known times before NOW, and the configs to compare it with, on disk.
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfigFile } from "../../lib/config/load.ts";
import type { AuditEvent } from "../../lib/core/audit.ts";
import { createTestBroker, NOW, type TestBroker } from "../support/broker.ts";
import type { TestIssuer } from "../support/issuer.ts";

export const H = 3_600_000;
export const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

export const WEB = "repo:acme/web:ref:refs/heads/main";
export const REPORTS = "repo:acme/reports:ref:refs/heads/main";
export const BATCH = "system:serviceaccount:batch:nightly";
export const EVIL = "repo:evil/x:ref:refs/heads/main";

export const DEPLOYED_POLICIES = `
@id("ci-reads-reports")
permit (principal, action == Action::"issue", resource == Task::"read-reports")
when { principal.hasTag("repository") && principal.getTag("repository") like "acme/*" };

@id("web-deploys-docs")
permit (principal == Workload::"web-ci", action == Action::"issue", resource == Task::"deploy-docs");

@id("batch-exception")
@exception("SEC-9")
@expires("${iso(NOW + 30 * 24 * H)}")
permit (principal == Workload::"batch", action == Action::"issue", resource == Task::"read-reports");

@id("no-quarantined")
forbid (principal, action, resource)
when { principal.hasTag("signal:quarantined") && principal.getTag("signal:quarantined") == "true" };
`;

const jwtTask = (name: string, sensitivity: string) => ({
  name,
  provider: "jwt",
  audience: `https://${name}.test`,
  scopes: [`${name}:use`],
  maxDurationSeconds: 300,
  sensitivity,
});

export function impactConfig(issuer: TestIssuer): Record<string, unknown> {
  return {
    version: 1,
    audience: "credbroker",
    issuerUrl: "https://broker.test",
    issuers: [
      {
        name: "test",
        issuer: issuer.issuer,
        jwks: issuer.jwks,
        algorithms: [issuer.alg],
        maxTokenAgeSeconds: 900,
        clockToleranceSeconds: 30,
      },
    ],
    workloads: [
      { name: "web-ci", issuer: "test", subject: "repo:acme/web:**", owner: "team-web@acme.test" },
      { name: "reports-job", issuer: "test", subject: "repo:acme/reports:**" },
      { name: "batch", issuer: "test", subject: BATCH },
    ],
    tasks: [jwtTask("read-reports", "low"), jwtTask("deploy-docs", "medium"), jwtTask("admin-api", "high")],
    policies: ["policies/*.cedar"],
    audit: { omitClaims: ["email"] },
  };
}

/** [ms before NOW, subject, task, repository claim] — each one token request. */
export const REQUESTS: [number, string, string, string | undefined][] = [
  [30 * H, WEB, "read-reports", "acme/web"],
  [20 * H, WEB, "read-reports", "acme/web"],
  [60_000, WEB, "read-reports", "acme/web"], // its grant is still active at NOW
  [10 * H, WEB, "deploy-docs", "acme/web"],
  [9 * H, WEB, "deploy-docs", "acme/web"],
  [8 * H, WEB, "admin-api", "acme/web"], // denied: no permit
  [7 * H, WEB, "admin-api", "acme/web"], // denied
  [6 * H, REPORTS, "read-reports", "acme/reports"],
  [5 * H, REPORTS, "read-reports", "acme/reports"],
  [4 * H, REPORTS, "deploy-docs", "acme/reports"], // denied
  [3 * H, BATCH, "read-reports", undefined], // allowed by the exception only
  [60_000, BATCH, "read-reports", undefined], // allowed by the exception; active at NOW
  [2 * H, EVIL, "read-reports", "evil/x"], // denied: unregistered
];

export interface History {
  broker: TestBroker;
  /** Config files on disk, as the deployed broker has them. */
  deployedPath: string;
  /** Every subject token sent, for the secrets scan. */
  tokens: string[];
  /** The stored token events, oldest first. */
  events: AuditEvent[];
}

export async function writeConfigDir(raw: Record<string, unknown>, policies: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "credbroker-impact-"));
  await mkdir(join(dir, "policies"));
  await writeFile(join(dir, "policies", "test.cedar"), policies);
  const path = join(dir, "broker.config.json");
  await writeFile(path, JSON.stringify(raw, null, 2));
  return path;
}

export async function recordHistory(): Promise<History> {
  const broker = await createTestBroker({ config: impactConfig, policies: DEPLOYED_POLICIES });
  const tokens: string[] = [];
  let n = 0;
  for (const [ago, sub, task, repository] of REQUESTS) {
    const at = NOW - ago;
    broker.clock.set(at);
    const token = await broker.issuer.mint(
      {
        sub,
        jti: `jti-${++n}`,
        email: `person${n}@acme.test`,
        ...(repository ? { repository } : {}),
      },
      { nowMs: at },
    );
    tokens.push(token);
    await broker.exchange(token, { scope: task });
  }
  broker.clock.set(NOW);
  const deployedPath = await writeConfigDir(impactConfig(broker.issuer), DEPLOYED_POLICIES);
  // The deployed config on disk is the very config the broker decided with.
  if ((await loadConfigFile(deployedPath)).version !== broker.resolved.version)
    throw new Error("the deployed config on disk differs from the broker's");
  const page = await broker.store.listAudit({ sinceMs: NOW - 40 * H, untilMs: NOW });
  return { broker, deployedPath, tokens, events: page.items.filter((e) => e.kind === "token") };
}
