// GET /.well-known/jwks.json and /.well-known/oauth-authorization-server.
import type { HttpEvent } from "../lib/http/apigw.ts";
import { createHandlers } from "../lib/http/handlers.ts";
import { lambdaDeps } from "../lib/runtime/lambda-runtime.ts";

const handlers = createHandlers(await lambdaDeps());

export const handler = (event: HttpEvent) =>
  event.rawPath.endsWith("/jwks.json") ? handlers.jwks(event) : handlers.metadata(event);
