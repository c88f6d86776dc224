// Reads broker.config.yaml (or .json) and the policy files its globs name, relative to the config file.
// Loading happens once, at start-up or synth, so the one implementation reads synchronously (load-sync.ts,
// which CDK needs); this is its promise-returning face for callers that await.

import { loadConfigFileSync } from "./load-sync.ts";
import type { ResolvedConfig } from "./resolve.ts";

export async function loadConfigFile(path: string): Promise<ResolvedConfig> {
  return loadConfigFileSync(path);
}
