// POST /introspect — RFC 7662 (IAM-authorized route).
import { lambdaHandler } from "../lib/runtime/lambda-runtime.ts";

export const handler = lambdaHandler((handlers) => handlers.introspect);
