// POST /revoke — RFC 7009 self-release by the workload that holds the grant.
import { lambdaHandler } from "../lib/runtime/lambda-runtime.ts";

export const handler = lambdaHandler((handlers) => handlers.revoke);
