// The providers that reach AWS (aws-sts), built from SDK clients. Filled in by the aws-sts work (issue 3).
import type { ResolvedConfig } from "../config/resolve.ts";
import type { Provider } from "../core/grant.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";

export interface AwsProviderOptions {
  /** Region for STS/IAM clients; the SDK's environment when absent. */
  region?: string;
}

export function awsProviders(_resolved: ResolvedConfig, _options: AwsProviderOptions = {}): Partial<Record<Provider, CredentialProvider>> {
  return {};
}
