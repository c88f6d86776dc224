// Property-based fuzzing with fast-check: the token endpoint never answers 5xx other than 503, never hands
// out a credential for junk, and keeps its answers small; the config loader either validates or fails with
// a ConfigError that says why, never an untyped exception.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfigFile } from "../../lib/config/load.ts";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { BASE_POLICIES, baseConfig, createTestBroker, NOW, type TestBroker } from "../support/broker.ts";
import { allGrants } from "./helpers.ts";

let broker: TestBroker;
let goodToken: string;
const RUNS = Number(process.env["CREDBROKER_FUZZ_RUNS"] ?? 250);

beforeAll(async () => {
  broker = await createTestBroker();
  goodToken = await broker.issuer.mint({ repository: "acme/web" }, { nowMs: NOW });
});

const PARAM_NAMES = [
  "grant_type",
  "subject_token",
  "subject_token_type",
  "scope",
  "duration_seconds",
  "purpose",
  "requested_token_type",
  "client_id",
  "__proto__",
  "constructor",
  "",
];
const CONTENT_TYPES = [
  "application/x-www-form-urlencoded",
  "application/json",
  "application/json; charset=utf-8",
  "application/x-www-form-urlencoded; charset=latin1",
  "text/plain",
  "",
  'application/json; charset="utf-8"; boundary=x',
];
const VALUES = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.constantFrom(
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:token-type:jwt",
    "read-reports",
    "900",
    "-1",
    "%ZZ",
    "\u0000",
  ),
);
const JSON_VALUES = fc.oneof(
  VALUES,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string()),
  fc.object(),
);

const formBody = fc
  .array(fc.tuple(fc.constantFrom(...PARAM_NAMES), VALUES), { maxLength: 10 })
  .map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&"));
const rawForm = fc
  .array(fc.tuple(fc.constantFrom(...PARAM_NAMES), fc.string()), { maxLength: 10 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join("&"));
const jsonBody = fc.dictionary(fc.constantFrom(...PARAM_NAMES), JSON_VALUES).map((o) => JSON.stringify(o));
const anyBody = fc.oneof(
  formBody,
  rawForm,
  jsonBody,
  fc.string(),
  fc.json(),
  fc.string({ unit: "binary", maxLength: 2000 }),
);

function expectSafe(res: { status: number; body: Record<string, unknown> }) {
  expect(res.status === 503 || res.status < 500).toBe(true);
  expect(res.status).not.toBe(200);
  expect(res.body).not.toHaveProperty("access_token");
  expect(res.body).not.toHaveProperty("credentials");
  expect(typeof res.body["error"]).toBe("string");
  expect(JSON.stringify(res.body).length).toBeLessThan(1024);
}

// A JWT-shaped token: three base64url segments of JSON that looks like a header and claims, with values
// drawn from the ones that matter (the configured issuer, our audience, the allowed algorithm) and junk.
const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const header = fc.record(
  {
    alg: fc.oneof(fc.constantFrom("ES256", "RS256", "HS256", "none", "NONE", "EdDSA", ""), fc.anything()),
    kid: fc.oneof(fc.constantFrom("ES256-key-1", "../../etc/passwd"), fc.string()),
    typ: fc.constantFrom("JWT", "at+jwt"),
    jku: fc.constant("http://127.0.0.1:1/jwks"),
    crit: fc.array(fc.string(), { maxLength: 2 }),
    b64: fc.boolean(),
  },
  { requiredKeys: ["alg"] },
);
const claims = fc.record(
  {
    iss: fc.oneof(
      fc.constantFrom("https://issuer.test", "https://issuer.test/", "https://evil.test"),
      fc.anything(),
    ),
    aud: fc.oneof(fc.constantFrom("credbroker", ["credbroker"], ["x", "credbroker"]), fc.anything()),
    sub: fc.oneof(fc.constantFrom("repo:acme/web:ref:refs/heads/main", "repo:acme/old:x"), fc.anything()),
    iat: fc.oneof(fc.constant(Math.floor(NOW / 1000)), fc.integer(), fc.anything()),
    exp: fc.oneof(fc.constant(Math.floor(NOW / 1000) + 300), fc.integer(), fc.anything()),
    nbf: fc.oneof(fc.integer(), fc.anything()),
    repository: fc.oneof(fc.constant("acme/web"), fc.anything()),
  },
  { requiredKeys: [] },
);
const signature = fc.oneof(
  fc.constant(""),
  fc.uint8Array({ minLength: 0, maxLength: 80 }).map((b) => Buffer.from(b).toString("base64url")),
  fc.constant(() => goodToken.split(".")[2]!).map((f) => f()),
);
const jwtShaped = fc.oneof(
  fc.tuple(header, claims, signature).map(([h, c, s]) => `${b64(h)}.${b64(c)}.${s}`),
  fc.tuple(fc.string(), fc.string(), fc.string()).map(([a, b, c]) => `${b64(a)}.${b64(b)}.${b64(c)}`),
  // A real token with one character changed somewhere but the last: base64url ignores the spare low bits
  // of the final character, so changing it can leave the very same signature bytes (a valid token).
  fc.tuple(fc.nat(), fc.constantFrom(..."ABCxyz019-_.=+/ ")).map(([i, ch]) => {
    const at = i % (goodToken.length - 1);
    const mutated = `${goodToken.slice(0, at)}${ch}${goodToken.slice(at + 1)}`;
    return mutated === goodToken ? `${goodToken}x` : mutated;
  }),
);

describe("token endpoint fuzzing", () => {
  it("random bodies and content types: never a credential, never a 5xx other than 503, small answers", async () => {
    const before = (await allGrants(broker.store)).length;
    await fc.assert(
      fc.asyncProperty(anyBody, fc.constantFrom(...CONTENT_TYPES), async (body, contentType) => {
        const res = await broker.call("token", body, {
          headers: contentType ? { "content-type": contentType } : {},
        });
        expectSafe(res);
      }),
      { numRuns: RUNS },
    );
    expect((await allGrants(broker.store)).length).toBe(before);
  });

  it("random JWT-shaped subject tokens: refused with invalid_request or access_denied, nothing issued", async () => {
    const before = (await allGrants(broker.store)).length;
    await fc.assert(
      fc.asyncProperty(jwtShaped, fc.constantFrom("read-reports", "nope"), async (token, scope) => {
        const res = await broker.exchange(token, { scope });
        expectSafe(res);
        expect(["invalid_request", "access_denied", "invalid_scope"]).toContain(res.body["error"]);
      }),
      { numRuns: RUNS },
    );
    expect((await allGrants(broker.store)).length).toBe(before);
  });

  it("control: the unmodified token is issued", async () => {
    expect((await broker.exchange(goodToken)).status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------------------

const POLICY_FILES = [{ file: "policies/test.cedar", text: BASE_POLICIES }];

function expectValidatesOrConfigError(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.problems.length).toBeGreaterThan(0);
    expect(e.message.length).toBeGreaterThan(0);
  }
}

/** Replaces a value at a random path of a valid config with junk, so most of the tree stays plausible. */
function mutate(value: unknown, path: number[], junk: unknown): unknown {
  if (path.length === 0 || value === null || typeof value !== "object") return junk;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i), v] as const)
    : Object.entries(value as object);
  if (entries.length === 0) return junk;
  const [key, child] = entries[path[0]! % entries.length]!;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value)
    ? [...value]
    : { ...(value as object) };
  (copy as Record<string, unknown>)[key] = mutate(child, path.slice(1), junk);
  return copy;
}

describe("config loader fuzzing", () => {
  let valid: Record<string, unknown>;
  beforeAll(() => {
    valid = baseConfig(broker.issuer);
  });

  it("anything at all validates or fails with a ConfigError", () => {
    fc.assert(
      fc.property(
        fc.anything({
          withNullPrototype: true,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
        }),
        (raw) => {
          expectValidatesOrConfigError(() => resolveConfig(raw, POLICY_FILES, "fuzz"));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("a valid config with one value replaced by junk validates or fails with a ConfigError", () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.anything({ withBigInt: true, withNullPrototype: true }),
        (path, junk) => {
          expectValidatesOrConfigError(() => resolveConfig(mutate(valid, path, junk), POLICY_FILES, "fuzz"));
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("arbitrary policy text validates or fails with a ConfigError", () => {
    const fragments = fc.constantFrom(
      "permit",
      "forbid",
      "(",
      ")",
      "principal",
      "action",
      "resource",
      "when",
      "{",
      "}",
      ";",
      '@id("x")',
      '@exception("T")',
      '@expires("2026-01-01T00:00:00Z")',
      "context.now",
      "==",
      '"',
      'ip("1.2.3.4")',
      "\u0000",
      'principal.getTag("a")',
      "unless",
      ",",
      'Task::"read-reports"',
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.array(fragments, { maxLength: 30 }).map((a) => a.join(" ")),
        ),
        (text) => {
          expectValidatesOrConfigError(() =>
            resolveConfig(valid, [{ file: "policies/fuzz.cedar", text }], "fuzz"),
          );
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("arbitrary file text validates or fails with a ConfigError", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-fuzz-"));
    await writeFile(join(dir, "p.cedar"), BASE_POLICIES);
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.constant("version: 1\nissuers: *a\n"),
          fc.constant("a: &a [*a]\n"),
        ),
        fc.boolean(),
        async (text, asJson) => {
          const file = join(dir, `c${n++}.${asJson ? "json" : "yaml"}`);
          await writeFile(file, text);
          try {
            await loadConfigFile(file);
          } catch (err) {
            expect(err).toBeInstanceOf(ConfigError);
          }
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
