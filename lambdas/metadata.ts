// GET /.well-known/jwks.json and /.well-known/oauth-authorization-server.
import { lambdaHandler } from "../lib/runtime/lambda-runtime.ts";

export const handler = lambdaHandler((handlers, event) =>
  event.rawPath.endsWith("/jwks.json") ? handlers.jwks : handlers.metadata,
);
