// `credbroker dev`'s stand-in for the KMS token vault: AES-256-GCM under a key file in the data dir (mode
// 0600), the grant id bound in as additional data so a ciphertext opens only for its own grant.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { TokenVault } from "../core/providers/github/ports.ts";

const aad = (grantId: string) => Buffer.from(`credbroker-grant=${grantId}`);

/** A vault whose key lives at `file` (made on first use); `inMemory` keeps a fresh key in memory only. */
export function localTokenVault(file: string | undefined): TokenVault {
  let key: Promise<Buffer> | undefined;
  const keyOf = () => {
    key ??= file ? loadOrCreateKey(file) : Promise.resolve(randomBytes(32));
    return key;
  };
  return {
    async seal(grantId, plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", await keyOf(), iv).setAAD(aad(grantId));
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return `v1.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
    },
    async open(grantId, ciphertext) {
      if (!ciphertext.startsWith("v1.")) throw new Error("not a local vault ciphertext");
      const raw = Buffer.from(ciphertext.slice(3), "base64");
      const decipher = createDecipheriv("aes-256-gcm", await keyOf(), raw.subarray(0, 12))
        .setAAD(aad(grantId))
        .setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
    },
  };
}

async function loadOrCreateKey(file: string): Promise<Buffer> {
  try {
    const key = Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 256-bit key`);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const key = randomBytes(32);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  // wx: two processes starting at once must not each write a key and lose the other's ciphertexts.
  await writeFile(file, key.toString("base64"), { mode: 0o600, flag: "wx" }).catch(async (err) => {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  });
  return Buffer.from((await readFile(file, "utf8")).trim(), "base64");
}
