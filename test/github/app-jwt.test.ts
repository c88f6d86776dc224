// The App JWT GitHub accepts: RS256, iat 60 s in the past against clock drift, exp at most 600 s after iat,
// iss the App ID — verified with the App's public key, from a PKCS#1 PEM as GitHub hands it out.
import { jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { pemFileSigner, signAppJwt } from "../../lib/github/app-jwt.ts";
import { rsaKeyPair } from "./support.ts";

describe("the GitHub App JWT", () => {
  it("is RS256 with iat = now - 60, exp = iat + 600 and iss = the App ID", async () => {
    const { publicKey, pemPath } = rsaKeyPair();
    const now = Date.parse("2026-11-30T10:00:00Z");
    const jwt = await signAppJwt(pemFileSigner(pemPath), "123456", now);
    const { payload, protectedHeader } = await jwtVerify(jwt, publicKey, {
      algorithms: ["RS256"],
      issuer: "123456",
      currentDate: new Date(now),
    });
    expect(protectedHeader.alg).toBe("RS256");
    expect(payload.iat).toBe(now / 1000 - 60);
    expect(payload.exp! - payload.iat!).toBe(600);
  });

  it("fails while the PEM file is missing (the token path answers 503)", async () => {
    const signer = pemFileSigner("/nonexistent/app.pem");
    await expect(signAppJwt(signer, "1", Date.now())).rejects.toThrow(/ENOENT/);
  });
});
