// One Secrets Manager client per region, made on first use: the postgres admin secrets and the secret
// provider both read Secrets Manager, with the same endpoint override and timeouts.
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { localCredentials } from "../aws/local-endpoint.ts";

export function secretsManagerClients(env: NodeJS.ProcessEnv): (region: string) => SecretsManagerClient {
  const clients = new Map<string, SecretsManagerClient>();
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      // Read from `env` (not only the SDK's own process.env), so the caller's environment decides.
      const endpoint = env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ?? env["AWS_ENDPOINT_URL"];
      client = new SecretsManagerClient({
        region,
        ...(endpoint ? { endpoint } : {}),
        // A stalled Secrets Manager must become a 503 well inside API Gateway's 30 s.
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
        ...localCredentials(endpoint, env),
      });
      clients.set(region, client);
    }
    return client;
  };
}
