// A test broker with github tasks whose App is installed on the loopback GitHub stand-in: a real RSA App key
// (PEM in a temp dir, or in the KMS fixture), the dev token vault, dynalite and a fixed clock.
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { resolveConfig } from "../../lib/config/resolve.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import type { TokenVault } from "../../lib/core/providers/github/ports.ts";
import { localTokenVault } from "../../lib/local/local-token-vault.ts";
import { githubProvider } from "../../lib/runtime/github-provider.ts";
import { type GitHubStandIn, startGitHubStandIn } from "../fixtures/github-server.ts";
import {
  BASE_POLICIES,
  baseConfig,
  closeSharedDynamo,
  createTestBroker,
  NOW,
  newStore,
  type TestBroker,
} from "../support/broker.ts";
import { createTestIssuer } from "../support/issuer.ts";

export const APP_ID = "123456";
export const INSTALLATION = {
  id: 4242,
  account: "acme",
  type: "Organization" as const,
  repositories: ["web", "docs", "reports"],
  permissions: { contents: "write", pull_requests: "write", metadata: "read" } as Record<
    string,
    "read" | "write" | "admin"
  >,
};

export const PUSH_TASK = {
  name: "push-docs",
  provider: "github",
  app: "acme-ci",
  owner: "acme",
  repositories: ["${claim:repository}", "docs"],
  permissions: { contents: "write", pull_requests: "read" },
  maxDurationSeconds: 900,
};

export const GITHUB_POLICIES = `${BASE_POLICIES}
@id("web-ci-pushes")
permit (principal == Workload::"web-ci", action == Action::"issue", resource);
`;

export function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject; pemPath: string } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pemPath = join(mkdtempSync(join(tmpdir(), "credbroker-gh-")), "app.pem");
  // PKCS#1, as GitHub hands out an App's private key.
  writeFileSync(pemPath, privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
  return { privateKey, publicKey, pemPath };
}

export interface GithubRig {
  github: GitHubStandIn;
  broker: TestBroker;
  clock: ReturnType<typeof fixedClock>;
  vault: TokenVault;
  pemPath: string;
  /** Every log line of the broker and its github provider, as JSON. */
  logs: string[];
  /** A subject token of web-ci whose `repository` claim is `repository`. */
  token(repository?: string): Promise<string>;
  /** POST /token for a github task. */
  issue(
    repository?: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

export interface GithubRigOptions {
  tasks?: Record<string, unknown>[];
  /** Sign the App JWT through KMS (the fixture holds the key) instead of the PEM file. */
  kms?: { client: KMSClient; keyArn: string; publicKey: KeyObject };
  vault?: TokenVault;
  budgetMs?: number;
}

export async function createGithubRig(options: GithubRigOptions = {}): Promise<GithubRig> {
  const keys = rsaKeyPair();
  const clock = fixedClock(NOW);
  const github = await startGitHubStandIn({
    apps: [
      { appId: APP_ID, publicKey: options.kms?.publicKey ?? keys.publicKey, installations: [INSTALLATION] },
    ],
    nowMs: () => clock.now(),
  });
  const issuer = await createTestIssuer();
  const config = (i: typeof issuer) => {
    const base = baseConfig(i);
    return {
      ...base,
      githubApps: [
        {
          name: "acme-ci",
          appId: APP_ID,
          apiUrl: github.url,
          privateKey: options.kms ? { kmsKeyArn: options.kms.keyArn } : { file: keys.pemPath },
        },
      ],
      tasks: [...(base["tasks"] as unknown[]), ...(options.tasks ?? [PUSH_TASK])],
    };
  };
  const resolved = resolveConfig(config(issuer), [{ file: "p.cedar", text: GITHUB_POLICIES }], "test");
  const store = await newStore();
  const vault = options.vault ?? localTokenVault(join(mkdtempSync(join(tmpdir(), "credbroker-vault-")), "k"));
  const logs: string[] = [];
  const log = {
    info: (m: string, f?: Record<string, unknown>) =>
      logs.push(JSON.stringify({ level: "info", message: m, ...f })),
    warn: (m: string, f?: Record<string, unknown>) =>
      logs.push(JSON.stringify({ level: "warn", message: m, ...f })),
    error: (m: string, f?: Record<string, unknown>) =>
      logs.push(JSON.stringify({ level: "error", message: m, ...f })),
  };
  const github$ = githubProvider(resolved, {
    store,
    log,
    clock,
    vault,
    configDir: "/",
    ...(options.kms ? { kms: options.kms.client } : {}),
    ...(options.budgetMs !== undefined ? { budgetMs: options.budgetMs } : {}),
    requestTimeoutMs: 1_000,
    // Waits pass on the broker's clock, so a Retry-After is honoured without the test sleeping.
    sleep: async (ms) => clock.advance(ms),
  });
  const broker = await createTestBroker({
    issuer,
    config,
    policies: GITHUB_POLICIES,
    store,
    adapters: { clock, log, providers: { github: github$ } },
  });
  const token = (repository = "acme/web") => issuer.mint({ repository }, { nowMs: clock.now() });
  return {
    github,
    broker,
    clock,
    vault,
    pemPath: keys.pemPath,
    logs,
    token,
    async issue(repository = "acme/web", extra = {}) {
      return broker.exchange(await token(repository), { scope: "push-docs", ...extra });
    },
  };
}

/** One rig per suite, its clock back at NOW and its faults cleared before each test. */
export function useGithubRig(options: GithubRigOptions = {}): GithubRig {
  const rig = {} as GithubRig;
  beforeAll(async () => {
    Object.assign(rig, await createGithubRig(options));
  });
  afterAll(async () => {
    await rig.github.close();
    await closeSharedDynamo();
  });
  beforeEach(() => {
    rig.clock.set(NOW);
  });
  return rig;
}
