// The config's version: a short SHA-256 over the config as JSON and the policy texts. It names a config in
// audit events and reports, and lets a shipped bundle be checked without validating it again (shipped.ts).
import { createHash } from "node:crypto";
import type { PolicyFile } from "../core/policy/policy-set.ts";

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

export function versionOf(config: unknown, policyFiles: PolicyFile[]): string {
  const hash = createHash("sha256").update(JSON.stringify(config));
  for (const f of [...policyFiles].sort((a, b) => a.file.localeCompare(b.file)))
    hash.update(`\0${f.file}\0${f.text}`);
  return hash.digest("hex").slice(0, 16);
}
