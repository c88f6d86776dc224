// A test broker with secret tasks over the loopback Secrets Manager stand-in (JSON 1.1 on a local port, as
// AWS_ENDPOINT_URL_SECRETS_MANAGER would point the SDK at it), dynalite and a fixed clock.
import { afterAll, beforeAll, beforeEach } from "vitest";
import { fixedClock } from "../../lib/core/clock.ts";
import type { Grant } from "../../lib/core/grant.ts";
import type { Logger } from "../../lib/core/logger.ts";
import { secretProvider } from "../../lib/runtime/secret-provider.ts";
import {
  type SecretsManagerFixture,
  startSecretsManagerFixture,
} from "../fixtures/secrets-manager-server.ts";
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

export const ACCOUNT = "111122223333";
export const arnOf = (name: string) => `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:${name}-AbCdEf`;

export const DATADOG = arnOf("ci/datadog");
export const LEGACY = arnOf("legacy/db-password");
export const BINARY = arnOf("ci/keystore");
export const BIG = arnOf("ci/big");
export const NO_ROTATION = arnOf("ci/no-rotation");

export const SECRET_TASKS = [
  {
    name: "datadog-key",
    provider: "secret",
    secretArn: DATADOG,
    jsonKey: "api_key",
    env: "DD_API_KEY",
    rotateAfterUse: true,
    maxDurationSeconds: 900,
    sensitivity: "high",
  },
  { name: "datadog-whole", provider: "secret", secretArn: DATADOG, maxDurationSeconds: 600 },
  { name: "legacy-password", provider: "secret", secretArn: LEGACY, env: "LEGACY_PASSWORD" },
  { name: "keystore", provider: "secret", secretArn: BINARY, env: "KEYSTORE_B64" },
  { name: "keystore-key", provider: "secret", secretArn: BINARY, jsonKey: "pass" },
  { name: "datadog-app-key", provider: "secret", secretArn: DATADOG, jsonKey: "app_key" },
  { name: "big", provider: "secret", secretArn: BIG },
  { name: "unrotatable", provider: "secret", secretArn: NO_ROTATION, rotateAfterUse: true },
];

export const SECRET_POLICIES = `${BASE_POLICIES}
@id("web-ci-secrets")
permit (principal == Workload::"web-ci", action == Action::"issue", resource);
`;

export interface SecretRig {
  sm: SecretsManagerFixture;
  broker: TestBroker;
  clock: ReturnType<typeof fixedClock>;
  logs: string[];
  token(): Promise<string>;
  issue(
    task: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  grant(id: string): Promise<Grant>;
  /** Resets the stand-in's secrets to a known state: datadog (rotating, JSON), legacy, binary, big, unrotatable. */
  seed(): void;
}

export const DATADOG_VALUE = { api_key: "dd-api-0123456789abcdef", app_key: "dd-app-fedcba9876543210" };
export const LEGACY_VALUE = "legacy-p@ss-w0rd-never-short-lived";

export async function createSecretRig(): Promise<SecretRig> {
  const sm = await startSecretsManagerFixture();
  const clock = fixedClock(NOW);
  const issuer = await createTestIssuer();
  const config = (i: typeof issuer) => {
    const base = baseConfig(i);
    return { ...base, tasks: [...(base["tasks"] as unknown[]), ...SECRET_TASKS] };
  };
  const store = await newStore();
  const logs: string[] = [];
  const capture =
    (level: string): Logger[keyof Logger] =>
    (message, fields) => {
      logs.push(JSON.stringify({ level, message, ...fields }));
    };
  const log: Logger = { info: capture("info"), warn: capture("warn"), error: capture("error") };
  const provider = secretProvider({
    store,
    log,
    clock,
    env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.endpoint },
  });
  const broker = await createTestBroker({
    issuer,
    config,
    policies: SECRET_POLICIES,
    store,
    adapters: { clock, log, providers: { secret: provider } },
  });
  const token = () => issuer.mint({ repository: "acme/web" }, { nowMs: clock.now() });
  const seed = () => {
    sm.entries.clear();
    sm.define(DATADOG, { string: JSON.stringify(DATADOG_VALUE), rotationEnabled: true });
    sm.define(LEGACY, { string: LEGACY_VALUE });
    sm.define(BINARY, { binary: Buffer.from([0, 1, 2, 250, 251, 252]) });
    sm.define(BIG, { string: "x".repeat(70 * 1024) });
    sm.define(NO_ROTATION, { string: "static-forever" });
    sm.rotationDelay("hold");
    sm.throttle(0);
    sm.failRotations(0);
  };
  seed();
  return {
    sm,
    broker,
    clock,
    logs,
    token,
    seed,
    async issue(task, extra = {}) {
      return broker.exchange(await token(), { scope: task, ...extra });
    },
    grant: async (id) => (await broker.store.getGrant(id))!,
  };
}

/** One rig per suite; its clock back at NOW and its secrets reseeded before each test. */
export function useSecretRig(): SecretRig {
  const rig = {} as SecretRig;
  beforeAll(async () => {
    Object.assign(rig, await createSecretRig());
  });
  afterAll(async () => {
    await rig.sm.close();
    await closeSharedDynamo();
  });
  beforeEach(() => {
    rig.clock.set(NOW);
    rig.seed();
    rig.logs.length = 0;
  });
  return rig;
}
