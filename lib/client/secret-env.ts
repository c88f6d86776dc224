// The variable of a secret answer (CONTRACT §15): the task's `env` name, holding the value. Erasable
// TypeScript only (the Action runs it). The name is checked here too: a shell `eval`s what `exchange
// --format env` prints, so a name is never trusted to be harmless just because the broker sent it.
import type { ExchangeResponse } from "./broker-client.ts";
import { BrokerResponseInvalid } from "./errors.ts";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** `[env, value]` of a secret answer; undefined for any other kind. */
export function secretEnvironment(response: ExchangeResponse): [string, string] | undefined {
  const secret = response.secret;
  if (!secret) return undefined;
  if (!ENV_NAME.test(secret.env))
    throw new BrokerResponseInvalid("the broker's secret answer names no valid environment variable");
  return [secret.env, response.access_token];
}

/** Each line of a value on its own, as the runner masks line by line (a PEM, a JSON document). */
export function maskableParts(value: string): string[] {
  return [...new Set([value, ...value.split(/\r?\n/).filter((line) => line.trim().length >= 4)])];
}
