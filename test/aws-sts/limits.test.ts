// STS's request limits, checked before the call.
import { describe, expect, it } from "vitest";
import {
  checkDuration,
  checkManagedPolicyArns,
  checkSessionName,
  checkSourceIdentity,
  checkTags,
  roleSessionName,
} from "../../lib/core/providers/aws-sts/limits.ts";

const code = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe("STS limits", () => {
  it.each([
    [900, 3600, undefined],
    [3600, 3600, undefined],
    [899, 3600, "duration_out_of_range"],
    [3601, 3600, "duration_out_of_range"],
    [43_200, 43_200, undefined],
    [43_201, 50_000, "duration_out_of_range"],
  ])("duration %i with task maximum %i → %s", (d, max, expected) => {
    expect(code(() => checkDuration(d, max))).toBe(expected);
  });

  it("names sessions cb-<grantId>, which fits the RoleSessionName pattern", () => {
    expect(code(() => checkSessionName(roleSessionName("01m8nyb980r1z76q3mkekkz1ae")))).toBeUndefined();
    expect(code(() => checkSessionName(`cb-${"x".repeat(62)}`))).toBe("sts_limit_exceeded");
  });

  it.each([
    ["web-ci", undefined],
    ["a", "sts_limit_exceeded"],
    ["x".repeat(65), "sts_limit_exceeded"],
    ["aws:thing", "sts_limit_exceeded"],
    ["has space", "sts_limit_exceeded"],
  ])("source identity %j → %s", (value, expected) => {
    expect(code(() => checkSourceIdentity(value))).toBe(expected);
  });

  it("checks tag keys, values, count, case-insensitive uniqueness and transitive keys", () => {
    const tag = (Key: string, Value = "v") => ({ Key, Value });
    expect(code(() => checkTags([tag("credbroker-grant")], ["credbroker-grant"]))).toBeUndefined();
    expect(code(() => checkTags([tag("aws:x")], []))).toBe("sts_limit_exceeded");
    expect(code(() => checkTags([tag("k", "*")], []))).toBe("sts_limit_exceeded");
    expect(code(() => checkTags([tag("k", "x".repeat(257))], []))).toBe("sts_limit_exceeded");
    expect(code(() => checkTags([tag("K"), tag("k")], []))).toBe("sts_limit_exceeded");
    expect(
      code(() =>
        checkTags(
          Array.from({ length: 51 }, (_, i) => tag(`k${i}`)),
          [],
        ),
      ),
    ).toBe("sts_limit_exceeded");
    expect(code(() => checkTags([tag("a")], ["b"]))).toBe("sts_limit_exceeded");
  });

  it("allows at most 10 managed policy ARNs", () => {
    expect(code(() => checkManagedPolicyArns(Array(10).fill("arn:aws:iam::aws:policy/X")))).toBeUndefined();
    expect(code(() => checkManagedPolicyArns(Array(11).fill("arn:aws:iam::aws:policy/X")))).toBe(
      "sts_limit_exceeded",
    );
  });
});
