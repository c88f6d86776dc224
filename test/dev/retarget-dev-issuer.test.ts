// Which configured issuers `credbroker dev` treats as its own dev issuer when it listens on another port:
// only the default dev origin's /dev/issuer; every other issuer keeps the URL the config gave it.
import { describe, expect, it } from "vitest";
import type { IssuerConfig } from "../../lib/config/schema.ts";
import { retargetDevIssuers } from "../../lib/local/dev-issuer.ts";

const ACTUAL = "http://127.0.0.1:9000/dev/issuer";
const entry = (issuer: string, jwksUri?: string): IssuerConfig => ({
  name: "x",
  issuer,
  ...(jwksUri ? { jwksUri } : {}),
  algorithms: ["ES256"],
  maxTokenAgeSeconds: 900,
  clockToleranceSeconds: 30,
});

describe("retargetDevIssuers", () => {
  it.each([
    "http://127.0.0.1:8787/dev/issuer",
    "http://127.0.0.1:8787/dev/issuer/",
    "http://localhost:8787/dev/issuer",
    "http://[::1]:8787/dev/issuer",
  ])("points %s at the issuer actually served", (issuer) => {
    expect(retargetDevIssuers([entry(issuer)], ACTUAL)[0]?.issuer).toBe(ACTUAL);
  });

  it("moves a jwksUri on the default dev origin along with its issuer", () => {
    const [out] = retargetDevIssuers(
      [entry("http://127.0.0.1:8787/dev/issuer", "http://127.0.0.1:8787/dev/issuer/jwks.json")],
      ACTUAL,
    );
    expect(out).toMatchObject({ issuer: ACTUAL, jwksUri: "http://127.0.0.1:9000/dev/issuer/jwks.json" });
  });

  it.each([
    "https://token.actions.githubusercontent.com",
    "https://127.0.0.1:8787/dev/issuer",
    "http://127.0.0.1:8788/dev/issuer",
    "http://127.0.0.1:8787/other/issuer",
    "http://127.0.0.1:8787/dev/issuer/x",
    "http://10.0.0.5:8787/dev/issuer",
    "http://user:pw@127.0.0.1:8787/dev/issuer",
  ])("leaves %s as configured", (issuer) => {
    const given = entry(issuer, "http://127.0.0.1:8787/dev/issuer/jwks.json");
    expect(retargetDevIssuers([given], ACTUAL)[0]).toEqual(given);
  });
});
