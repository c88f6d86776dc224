// POST /revoke — RFC 7009 self-release by the workload that holds the grant.
import { createHandlers } from "../lib/http/handlers.ts";
import { lambdaDeps } from "../lib/runtime/lambda-runtime.ts";

export const handler = createHandlers(await lambdaDeps()).revoke;
