// The scheduled sweep (EventBridge): one bounded run that leaves work for the next when time runs out.
import { sweepDue } from "../lib/core/sweep.ts";
import { lambdaDeps } from "../lib/runtime/lambda-runtime.ts";

const deps = await lambdaDeps();

export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const summary = await sweepDue(deps, { budgetMs: Math.max(1_000, remaining - 10_000) });
  deps.log.info("sweep", { summary });
  return summary;
};
