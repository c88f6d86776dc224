// The routes of CONTRACT §13 by path, for the dev server and the events function: the two webhooks (each
// with its secret) and their body limit, larger than the OAuth routes' 64 KiB.

import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { type Clock, systemClock } from "../core/clock.ts";
import type { EventDeps } from "../core/events/end-task.ts";
import type { Logger } from "../core/logger.ts";
import { MAX_BODY_BYTES } from "../core/params.ts";
import { webhookSecrets } from "../runtime/webhook-secrets.ts";
import { MAX_EVENT_BODY_BYTES, webhookHandler } from "./event-handlers.ts";
import type { Handler } from "./handlers.ts";

export const EVENT_PATHS = { github: "/events/github", gitlab: "/events/gitlab" } as const;

export function createEventRoutes(
  deps: EventDeps & { log: Logger; clock?: Clock },
  options: { env: NodeJS.ProcessEnv; secretsManager?: (region: string) => SecretsManagerClient },
): { routes: Record<string, Handler>; bodyLimit: (path: string) => number } {
  const secrets = webhookSecrets(deps.config.events, {
    env: options.env,
    clock: deps.clock ?? systemClock,
    ...(options.secretsManager ? { secretsManager: options.secretsManager } : {}),
  });
  const routes: Record<string, Handler> = {};
  // A webhook the config does not name has no route: 404, like any unknown path.
  if (deps.config.events?.github) routes[EVENT_PATHS.github] = webhookHandler(deps, secrets, "github");
  if (deps.config.events?.gitlab) routes[EVENT_PATHS.gitlab] = webhookHandler(deps, secrets, "gitlab");
  return {
    routes,
    bodyLimit: (path) => (routes[path] ? MAX_EVENT_BODY_BYTES : MAX_BODY_BYTES),
  };
}
