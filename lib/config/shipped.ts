// The config as a Lambda function gets it: the bundle `cdk synth` wrote (validated config, policies compiled
// in strict mode, and their version), checked cheaply — its version hashed again — instead of validated a
// second time. No zod schema and no Cedar compile at cold start; a bundle that does not match its version
// was not written by synth (edited, damaged) and is refused, so that a function never runs a config nobody
// validated. `credbroker dev` and the CLI load configs with load.ts, which validates.
import type { CompiledPolicies, PolicyFile } from "../core/policy/policy-set.ts";
import type { BrokerConfig } from "./schema.ts";
import { isPlainObject, versionOf } from "./version.ts";

export interface ShippedConfig {
  config: BrokerConfig;
  policyFiles: PolicyFile[];
  policies: CompiledPolicies;
  version: string;
}

export class ShippedConfigMismatch extends Error {
  constructor(readonly source: string) {
    super(`${source} does not match its version: deploy a bundle written by cdk synth`);
    this.name = "ShippedConfigMismatch";
  }
}

export function resolveShipped(bundle: unknown, source: string): ShippedConfig {
  if (!isPlainObject(bundle)) throw new ShippedConfigMismatch(source);
  const { config, policyFiles, policies, version } = bundle;
  if (
    !isPlainObject(config) ||
    !Array.isArray(policyFiles) ||
    !isPlainObject(policies) ||
    typeof version !== "string" ||
    versionOf(config, policyFiles as PolicyFile[]) !== version
  )
    throw new ShippedConfigMismatch(source);
  return {
    config: config as unknown as BrokerConfig,
    policyFiles: policyFiles as PolicyFile[],
    policies: policies as unknown as CompiledPolicies,
    version,
  };
}
