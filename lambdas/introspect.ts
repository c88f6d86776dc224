// POST /introspect — RFC 7662 (IAM-authorized route).
import { createHandlers } from "../lib/http/handlers.ts";
import { lambdaDeps } from "../lib/runtime/lambda-runtime.ts";

export const handler = createHandlers(await lambdaDeps()).introspect;
