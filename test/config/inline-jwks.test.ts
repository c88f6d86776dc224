// Inline issuer keys are imported when the config loads: a key that cannot verify (bad coordinates, a point
// off the curve, a short RSA modulus, an alg that does not fit) or that is private is refused with its
// config path, at load and in `policy validate`, instead of failing every token request with a 503.
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "../../lib/config/resolve.ts";
import { runCli } from "../client/run-cli.ts";

const POLICY = [{ file: "p.cedar", text: `@id("p") permit (principal, action, resource);` }];
const configWith = (keys: unknown[], algorithms = ["ES256", "RS256", "EdDSA"]) => ({
  version: 1,
  audience: "credbroker",
  issuerUrl: "https://broker.test",
  issuers: [
    { name: "gh", issuer: "https://token.actions.githubusercontent.com" },
    { name: "k8s", issuer: "https://k8s.test", jwks: { keys }, algorithms },
  ],
  tasks: [{ name: "t", provider: "jwt", audience: "x" }],
  policies: ["policies/*.cedar"],
});

function problems(keys: unknown[]): string[] {
  try {
    resolveConfig(configWith(keys), POLICY, "broker.config.yaml");
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const REVIEWED = { kty: "EC", crv: "P-256", x: "AAAA", y: "BBBB" };
let ec: JWK;
let ecPrivate: JWK;
let rsa: JWK;
let rsaPrivate: JWK;
let ed: JWK;

beforeAll(async () => {
  const p256 = await generateKeyPair("ES256", { extractable: true });
  ec = { ...(await exportJWK(p256.publicKey)), kid: "ec", alg: "ES256", use: "sig" };
  ecPrivate = { ...(await exportJWK(p256.privateKey)), kid: "ec" };
  const rs = await generateKeyPair("RS256", { extractable: true });
  rsa = { ...(await exportJWK(rs.publicKey)), alg: "RS256" };
  rsaPrivate = await exportJWK(rs.privateKey);
  ed = await exportJWK((await generateKeyPair("EdDSA", { extractable: true })).publicKey);
});

describe("inline issuer keys", () => {
  it("accepts public EC, RSA and Ed25519 keys", () => {
    expect(problems([ec, rsa, ed])).toEqual([]);
  });

  it.each<[string, () => JWK, string]>([
    ["the reviewed placeholder coordinates", () => REVIEWED, "ES256"],
    ["a point off the curve", () => ({ ...ec, y: ec.x }), "ES256"],
    ["an EC key missing y", () => ({ kty: "EC", crv: "P-256", x: ec.x }) as JWK, "ES256"],
    ["an RSA key without its exponent", () => ({ kty: "RSA", n: rsa.n }) as JWK, "RS256"],
    ["an Ed25519 key of the wrong length", () => ({ kty: "OKP", crv: "Ed25519", x: "AAAA" }), "EdDSA"],
  ])("refuses %s, which jose could not import either", async (_, key, alg) => {
    expect(problems([ec, key()])).toEqual([
      expect.stringMatching(/^issuers\[1\]\.jwks\.keys\[1\]: is not a valid (EC|RSA|OKP) public key/),
    ]);
    // The refusal is real: the verifier's own import (jose) fails on the same key.
    await expect(importJWK(key(), alg)).rejects.toThrow();
  });

  it.each<[string, () => JWK, RegExp]>([
    ["a private EC key", () => ecPrivate, /private or symmetric key \(has d\)/],
    ["a private RSA key", () => rsaPrivate, /private or symmetric key \(has d, p, q, dp, dq, qi\)/],
    ["a symmetric key", () => ({ kty: "oct", k: "c2VjcmV0" }), /private or symmetric key \(has k\)/],
    ["a 1024-bit RSA key", () => rsa1024(), /RSA modulus is 1024 bits; at least 2048/],
    ["a truncated RSA modulus", () => ({ ...rsa, n: "AQAB" }), /RSA modulus is 17 bits/],
    ["a secp256k1 key", () => ({ ...ec, crv: "secp256k1" }), /crv of an EC key must be P-256/],
    ["an alg that does not fit the curve", () => ({ ...ec, alg: "ES384" }), /alg ES384 does not fit/],
    ["an HS256 alg on an RSA key", () => ({ ...rsa, alg: "HS256" }), /alg HS256 does not fit/],
    ["an unknown kty", () => ({ kty: "XX" }), /kty must be RSA, EC or OKP/],
  ])("refuses %s, naming the key's path", (_, key, message) => {
    const found = problems([key()]);
    expect(found).toEqual([expect.stringMatching(/^issuers\[1\]\.jwks\.keys\[0\]: /)]);
    expect(found[0]).toMatch(message);
  });

  it("never quotes private key material in the error", () => {
    const text = problems([ecPrivate, rsaPrivate]).join("\n");
    for (const value of [ecPrivate.d, rsaPrivate.d, rsaPrivate.p, rsaPrivate.q])
      expect(text).not.toContain(value!.slice(0, 12));
  });

  it("fails `credbroker policy validate` with the key's path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cb-jwks-"));
    await mkdir(join(dir, "policies"));
    await writeFile(join(dir, "policies", "p.cedar"), POLICY[0]!.text);
    await writeFile(join(dir, "broker.config.json"), JSON.stringify(configWith([REVIEWED])));
    const run = await runCli(["policy", "validate", "--config", join(dir, "broker.config.json")]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("issuers[1].jwks.keys[0]: is not a valid EC public key");
  });
});

function rsa1024(): JWK {
  return {
    ...(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ format: "jwk" }) as JWK),
    alg: "RS256",
  };
}
