// POST /token — RFC 8693 token exchange.
import { createHandlers } from "../lib/http/handlers.ts";
import { lambdaDeps } from "../lib/runtime/lambda-runtime.ts";

export const handler = createHandlers(await lambdaDeps()).token;
