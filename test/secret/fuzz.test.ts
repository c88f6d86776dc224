// Hostile requests for secret tasks, property-based: whatever the duration, purpose, requested token type
// and repetition of parameters, the answer is a 200 carrying the value only for a valid request of a
// permitted secret task, otherwise a 4xx (or 503) that carries no value; never another 5xx.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DATADOG_VALUE, LEGACY_VALUE, useSecretRig } from "./support.ts";

const rig = useSecretRig();
const RUNS = Number(process.env["CREDBROKER_FUZZ_RUNS"] ?? 60);
const VALUES = [DATADOG_VALUE.api_key, DATADOG_VALUE.app_key, LEGACY_VALUE];

const field = fc.oneof(
  fc.constant(undefined),
  fc.string({ maxLength: 40 }),
  fc.integer({ min: -10, max: 100_000 }).map(String),
  fc.constantFrom("0", "59", "60", "900", "901", "43200", "1e3", " 60", "60 "),
);

describe("secret task request fuzzing", () => {
  it("hands the value out only to a valid, permitted request; everything else is refused without it", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("datadog-key", "legacy-password", "datadog-key legacy-password", "", "DATADOG-KEY"),
        field,
        field,
        fc.constantFrom(
          undefined,
          "urn:credbroker:token-type:secret",
          "urn:credbroker:token-type:aws-credentials",
          "urn:ietf:params:oauth:token-type:access_token",
          "junk",
        ),
        fc.boolean(),
        async (scope, duration, purpose, requested, repeat) => {
          const params = new URLSearchParams({
            grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
            subject_token: await rig.token(),
            subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
            scope,
          });
          if (duration !== undefined) params.append("duration_seconds", duration);
          if (purpose !== undefined) params.append("purpose", purpose);
          if (requested !== undefined) params.append("requested_token_type", requested);
          if (repeat) params.append("scope", scope);
          const res = await rig.broker.call("token", params.toString());
          expect([200, 400, 403, 503]).toContain(res.status);
          const text = JSON.stringify(res.body);
          if (res.status !== 200) {
            for (const v of VALUES) expect(text).not.toContain(v);
            return;
          }
          expect(["datadog-key", "legacy-password"]).toContain(scope);
          expect(repeat).toBe(false);
          expect(res.body["issued_token_type"]).toBe("urn:credbroker:token-type:secret");
          expect(VALUES).toContain(res.body["access_token"]);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
