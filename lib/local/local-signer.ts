// The dev signer: an ES256 key kept in the data dir (mode 0600) so restarts keep the same JWKS.
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { calculateJwkThumbprint, type JWK } from "jose";
import type { Signer } from "../core/signer.ts";

export async function createLocalSigner(privateKey: KeyObject): Promise<Signer> {
  const publicJwk = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    alg: "ES256",
    kid,
    async sign(data) {
      return new Uint8Array(sign("sha256", data, { key: privateKey, dsaEncoding: "ieee-p1363" }));
    },
    async publicJwk() {
      return { ...publicJwk };
    },
  };
}

export function generateSigningKey(): KeyObject {
  return generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
}

/** Loads the key at `file`, or makes one and stores it there. */
export async function loadOrCreateSigningKey(file: string): Promise<KeyObject> {
  try {
    const jwk = JSON.parse(await readFile(file, "utf8")) as JWK;
    return createPrivateKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const key = generateSigningKey();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, JSON.stringify(key.export({ format: "jwk" })), { mode: 0o600 });
  return key;
}
