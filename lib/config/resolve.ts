// A config with its policy texts, validated end to end: the zod schema, then every Cedar policy in strict
// mode. The same function runs at start, at `cdk synth` and in `credbroker policy validate`.
import type { z } from "zod";
import {
  type CompiledPolicies,
  compilePolicies,
  type PolicyFile,
  PolicyValidationError,
} from "../core/policy/policy-set.ts";
import { type BrokerConfig, configSchema } from "./schema.ts";
import { isPlainObject, versionOf } from "./version.ts";

export interface ResolvedConfig {
  config: BrokerConfig;
  policyFiles: PolicyFile[];
  policies: CompiledPolicies;
  /** Short SHA-256 over the validated config and the policy texts. */
  version: string;
}

export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid credbroker config:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
  }
}

export function formatZodIssues(issues: z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path =
      issue.path.length > 0
        ? issue.path
            .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
            .join("")
            .replace(/^\./, "")
        : "(root)";
    return `${path}: ${issue.message} (${issue.code})`;
  });
}

export function validateConfig(raw: unknown, source: string): BrokerConfig {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(source, formatZodIssues(parsed.error.issues));
  return parsed.data;
}

export function resolveConfig(raw: unknown, policyFiles: PolicyFile[], source: string): ResolvedConfig {
  const config = validateConfig(raw, source);
  if (policyFiles.length === 0)
    throw new ConfigError(source, [`policies: no file matches ${config.policies.join(", ")}`]);
  let policies: CompiledPolicies;
  try {
    policies = compilePolicies(policyFiles, { approvals: config.approvals !== undefined });
  } catch (err) {
    if (err instanceof PolicyValidationError) throw new ConfigError(source, err.problems);
    throw err;
  }
  return { config, policyFiles, policies, version: configVersion(config, policyFiles, source) };
}

/** Short SHA-256 over the validated config and the policy texts: recorded on every grant. */
export function configVersion(config: BrokerConfig, policyFiles: PolicyFile[], source: string): string {
  try {
    return versionOf(config, policyFiles);
  } catch (err) {
    // Only a config built in code can get here (a BigInt, a cycle): YAML and JSON files cannot.
    throw new ConfigError(source, [`(root): is not plain JSON data (${(err as Error).message})`]);
  }
}

/** The bundle form of a config, as the CDK construct ships it to Lambda: the config plus its policy texts. */
export interface ConfigBundle {
  config: unknown;
  policyFiles: PolicyFile[];
  /** The policies compiled (and strictly validated) at synth; absent in bundles made by hand. */
  policies?: CompiledPolicies;
  version?: string;
}

/**
 * A config whose policies were compiled and validated when it was bundled (`cdk synth`): the policies are
 * trusted as compiled. The bundle's config is the validated config synth wrote and its version hashes it with
 * the policy texts, so when the hash of the config as it is here matches, it is that config, already
 * validated, and a cold start does not pay for zod again (about 10 ms). Otherwise the config is validated,
 * and any other mismatch falls back to a full resolve, so a hand-made, edited or stale bundle is validated
 * like any other config.
 */
export function resolvePrecompiled(bundle: ConfigBundle, source: string): ResolvedConfig {
  if (!bundle.policies || !bundle.version) return resolveConfig(bundle.config, bundle.policyFiles, source);
  if (isPlainObject(bundle.config) && versionOf(bundle.config, bundle.policyFiles) === bundle.version)
    return {
      config: bundle.config as BrokerConfig,
      policyFiles: bundle.policyFiles,
      policies: bundle.policies,
      version: bundle.version,
    };
  const config = validateConfig(bundle.config, source);
  // The version hashes the config and the policy texts: if either changed since synth, compile afresh.
  if (configVersion(config, bundle.policyFiles, source) !== bundle.version)
    return resolveConfig(bundle.config, bundle.policyFiles, source);
  return { config, policyFiles: bundle.policyFiles, policies: bundle.policies, version: bundle.version };
}
