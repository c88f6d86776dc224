// GET /approvals, GET|POST /approvals/{id} — people approve or deny requests for tasks that need it.
import { lambdaApprovalsHandler } from "../lib/runtime/lambda-runtime.ts";

export const handler = lambdaApprovalsHandler();
