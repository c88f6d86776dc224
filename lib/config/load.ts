// Reads broker.config.yaml (or .json) and the policy files its globs name, relative to the config file.
// Loading happens once, at start-up or synth, so the one implementation reads synchronously (load-sync.ts,
// which CDK needs); this is its promise-returning face for callers that await.

import type { CompiledPolicies } from "../core/policy/policy-set.ts";
import { loadConfigFileSync, toConfigBundle } from "./load-sync.ts";
import type { ResolvedConfig } from "./resolve.ts";

export async function loadConfigFile(path: string): Promise<ResolvedConfig> {
  return loadConfigFileSync(path);
}

/** The bundle form of a config, as the CDK construct ships it to Lambda: the config plus its policy texts. */
export interface ConfigBundle {
  config: unknown;
  policyFiles: { file: string; text: string }[];
  /** The policies compiled (and strictly validated) at synth; absent in bundles made by hand. */
  policies?: CompiledPolicies;
  version?: string;
}

export async function bundleConfig(path: string): Promise<ConfigBundle> {
  return toConfigBundle(loadConfigFileSync(path));
}
