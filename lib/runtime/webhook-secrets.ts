// Reads the webhook secrets of `events.github` / `events.gitlab`: `{ env: VAR }` from the process
// environment (dev, tests), `{ secretArn }` from Secrets Manager (AWS: only the events function may), kept
// for five minutes so that a rotated secret is picked up without a redeploy. The value is never logged.
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { EventsConfig } from "../config/events-schema.ts";
import type { Clock } from "../core/clock.ts";
import type { WebhookSecrets } from "../core/events/secrets.ts";

const CACHE_MS = 5 * 60_000;

export function webhookSecrets(
  events: EventsConfig | undefined,
  deps: { env: NodeJS.ProcessEnv; clock: Clock; secretsManager?: (region: string) => SecretsManagerClient },
): WebhookSecrets {
  const cache = new Map<string, { value: string; atMs: number }>();
  const clients = new Map<string, SecretsManagerClient>();
  const client = (region: string) => {
    let c = clients.get(region);
    if (!c) {
      c =
        deps.secretsManager?.(region) ??
        new SecretsManagerClient({
          region,
          requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
        });
      clients.set(region, c);
    }
    return c;
  };
  return {
    async secret(source) {
      const ref = events?.[source]?.secret;
      if (!ref) return undefined;
      if ("env" in ref) {
        const value = deps.env[ref.env];
        // An unset variable is a deployment fault: refuse every delivery (503), never accept an empty secret.
        if (!value) throw new Error(`WebhookSecretUnset: ${ref.env}`);
        return value;
      }
      const cached = cache.get(ref.secretArn);
      if (cached && deps.clock.now() - cached.atMs < CACHE_MS) return cached.value;
      const out = await client(ref.secretArn.split(":")[3]!).send(
        new GetSecretValueCommand({ SecretId: ref.secretArn }),
      );
      if (!out.SecretString) throw new Error("WebhookSecretEmpty");
      cache.set(ref.secretArn, { value: out.SecretString, atMs: deps.clock.now() });
      return out.SecretString;
    },
  };
}
