// What of a secret version is handed out: the whole string, one key of a JSON string, or a binary value as
// base64. Anything else is a config or secret problem, refused with a reason that never quotes the value.
import type { SecretVersion } from "./ports.ts";

/** The largest value handed out (Secrets Manager's own limit): more cannot be a genuine secret of ours. */
export const MAX_SECRET_BYTES = 65_536;

export type SecretValue = { value: string; encoding?: "base64" } | { problem: string };

export function secretValue(version: SecretVersion, jsonKey: string | undefined): SecretValue {
  let value: string;
  let encoding: "base64" | undefined;
  if (jsonKey !== undefined) {
    if (version.string === undefined) return { problem: "the secret is binary; jsonKey needs a JSON string" };
    let parsed: unknown;
    try {
      parsed = JSON.parse(version.string);
    } catch {
      return { problem: "the secret is not JSON; jsonKey needs a JSON object" };
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
      return { problem: "the secret is not a JSON object; jsonKey needs one" };
    const v = (parsed as Record<string, unknown>)[jsonKey];
    if (v === undefined || v === null) return { problem: `the secret has no key ${jsonKey}` };
    if (typeof v === "object") return { problem: `the secret's key ${jsonKey} is not a string` };
    value = String(v);
  } else if (version.string !== undefined) value = version.string;
  else if (version.binary !== undefined) {
    value = Buffer.from(version.binary).toString("base64");
    encoding = "base64";
  } else return { problem: "the secret version has no value" };
  const bytes = Buffer.byteLength(value, "utf8");
  if (bytes > MAX_SECRET_BYTES)
    return { problem: `the value is ${bytes} bytes, over the ${MAX_SECRET_BYTES}-byte limit` };
  if (value === "") return { problem: "the value is empty" };
  return encoding ? { value, encoding } : { value };
}
