// POST /token — RFC 8693 token exchange.
import { lambdaHandler } from "../lib/runtime/lambda-runtime.ts";

export const handler = lambdaHandler((handlers) => handlers.token);
