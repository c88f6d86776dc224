import { generateKeyPairSync, sign, verify } from "node:crypto";
import { KMSClient } from "@aws-sdk/client-kms";
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKmsSigner, derToJose } from "../../lib/aws/kms-signer.ts";
import { signAccessToken } from "../../lib/core/jwt/access-token.ts";
import { publicJwks } from "../../lib/core/metadata.ts";
import { type KmsFixture, startKmsFixture } from "../fixtures/kms-server.ts";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";

const kmsClient = (endpoint?: string) =>
  new KMSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    maxAttempts: 1,
    ...(endpoint ? { endpoint } : {}),
  });

const claims = (n = 0) => ({
  iss: "https://broker.test",
  sub: "web-ci",
  aud: "https://reports.test",
  scope: "reports:read",
  client_id: "web-ci",
  iat: 1_800_000_000,
  exp: 1_800_000_300,
  jti: `grant-${n}`,
  task: "read-reports",
});

describe("KMS signer against a local KMS-protocol fixture", () => {
  let kms: KmsFixture;
  const saved = process.env["AWS_ENDPOINT_URL_KMS"];

  beforeAll(async () => {
    kms = await startKmsFixture();
    // The same variable the Lambda runtime's SDK honours: no endpoint in code.
    process.env["AWS_ENDPOINT_URL_KMS"] = kms.endpoint;
  });
  afterAll(async () => {
    if (saved === undefined) delete process.env["AWS_ENDPOINT_URL_KMS"];
    else process.env["AWS_ENDPOINT_URL_KMS"] = saved;
    await kms.close();
  });

  it("signs an access token that jose verifies against the JWKS derived from the KMS public key", async () => {
    const signer = await createKmsSigner(kmsClient(), kms.keyArn);
    const token = await signAccessToken(signer, claims());
    const jwks = await publicJwks(signer);
    const { payload, protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: "https://broker.test",
      audience: "https://reports.test",
      algorithms: ["ES256"],
      currentDate: new Date(1_800_000_100_000),
    });
    expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "at+jwt", kid: signer.kid });
    expect(payload).toMatchObject({ sub: "web-ci", jti: "grant-0", scope: "reports:read" });
    expect(kms.calls.map((c) => c.target)).toEqual(["TrentService.GetPublicKey", "TrentService.Sign"]);
    expect(kms.calls[1]!.body).toMatchObject({
      KeyId: kms.keyArn,
      MessageType: "RAW",
      SigningAlgorithm: "ECDSA_SHA_256",
    });
  });

  it("publishes exactly the fixture's public key, with the RFC 7638 thumbprint as kid", async () => {
    const signer = await createKmsSigner(kmsClient(), kms.keyId);
    const { keys } = await publicJwks(signer);
    expect(keys).toHaveLength(1);
    const expected = kms.publicKey.export({ format: "jwk" });
    expect(keys[0]).toMatchObject({
      kty: "EC",
      crv: "P-256",
      x: expected.x,
      y: expected.y,
      alg: "ES256",
      use: "sig",
    });
    expect(keys[0]).not.toHaveProperty("d");
    expect(signer.kid).toBe(
      await calculateJwkThumbprint(expected as Parameters<typeof calculateJwkThumbprint>[0]),
    );
  });

  it("produces verifiable signatures whatever the DER integer lengths (300 tokens)", async () => {
    // About half of ECDSA r/s values need a DER 0x00 pad and ~1 in 128 are shorter than 32 bytes.
    const signer = await createKmsSigner(kmsClient(), kms.keyArn);
    const jwks = createLocalJWKSet(await publicJwks(signer));
    let verified = 0;
    for (let i = 0; i < 300; i++) {
      const token = await signAccessToken(signer, claims(i));
      expect(decodeProtectedHeader(token).alg).toBe("ES256");
      await jwtVerify(token, jwks, { currentDate: new Date(1_800_000_100_000) });
      verified++;
    }
    expect(verified).toBe(300);
  });

  it("refuses a key that is not ECC_NIST_P256", async () => {
    const rsa = await startKmsFixture({ keySpec: "RSA_2048" });
    try {
      await expect(createKmsSigner(kmsClient(rsa.endpoint), rsa.keyArn)).rejects.toThrow(
        /RSA_2048 is not ECC_NIST_P256/,
      );
    } finally {
      await rsa.close();
    }
  });

  it("surfaces a KMS failure at signing rather than returning a bad signature", async () => {
    const signer = await createKmsSigner(kmsClient(), kms.keyArn);
    kms.failNext(1);
    await expect(signAccessToken(signer, claims())).rejects.toMatchObject({
      name: expect.stringMatching(/Exception|Error/),
    });
  });
});

describe("derToJose", () => {
  const der = (r: number[], s: number[]) =>
    Uint8Array.from([0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s]);

  it("left-pads short integers and strips DER sign bytes to fixed 32-byte halves", () => {
    const r = [0x01, ...new Array(30).fill(0xaa)]; // 31 bytes
    const s = [0x00, 0x80, ...new Array(31).fill(0xbb)]; // 33 bytes with a sign pad
    const jose = derToJose(der(r, s));
    expect(jose).toHaveLength(64);
    expect(Array.from(jose.subarray(0, 32))).toEqual([0x00, ...r]);
    expect(Array.from(jose.subarray(32))).toEqual(s.slice(1));
  });

  it.each([
    ["not a sequence", Uint8Array.from([0x31, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ["not an integer", Uint8Array.from([0x30, 0x06, 0x04, 0x01, 0x01, 0x02, 0x01, 0x01])],
    ["an integer longer than the curve", der(new Array(34).fill(0x7f), [0x01])],
  ])("rejects %s", (_name, input) => {
    expect(() => derToJose(input)).toThrow();
  });

  it("turns 500 Node DER signatures into IEEE P1363 signatures that Node verifies", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const message = Buffer.from("header.payload");
    for (let i = 0; i < 500; i++) {
      const jose = derToJose(sign("sha256", message, { key: privateKey, dsaEncoding: "der" }));
      expect(verify("sha256", message, { key: publicKey, dsaEncoding: "ieee-p1363" }, jose)).toBe(true);
    }
  });
});
