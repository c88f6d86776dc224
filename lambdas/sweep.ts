// The scheduled sweep (EventBridge): one bounded run that leaves work for the next when time runs out.
// It publishes its outcome as EMF metrics (namespace credbroker), which the construct's alarms watch.
import { emfLine } from "../lib/aws/emf.ts";
import { sweepDue } from "../lib/core/sweep.ts";
import { lambdaSweepDeps } from "../lib/runtime/lambda-runtime.ts";
import { trackSweepLag } from "../lib/runtime/sweep-lag.ts";

let lag: ReturnType<typeof trackSweepLag> | undefined;
// The alarm's dimension: several brokers in one account keep separate metrics.
const dimensions = { FunctionName: process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "credbroker-sweep" };
const deps = lambdaSweepDeps((store) => {
  lag = trackSweepLag(store);
  return lag.store;
});

export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  lag?.reset();
  try {
    const summary = await sweepDue(deps, { budgetMs: Math.max(1_000, remaining - 10_000) });
    deps.log.info("sweep", { summary });
    process.stdout.write(
      emfLine(
        {
          // Steps that failed inside a completed run (the run itself still expired what it could).
          SweepErrors: { value: summary.errors, unit: "Count" },
          // The sweep's own measure of the backlog it left; the overdue grants it saw when that failed.
          SweepLagSeconds: { value: summary.oldestDueAgeSeconds ?? lag?.lagSeconds() ?? 0, unit: "Seconds" },
          SweepScanned: { value: summary.scanned, unit: "Count" },
          SweepExpired: { value: summary.expired, unit: "Count" },
          SweepRevoked: { value: summary.revoked, unit: "Count" },
          SweepIncomplete: { value: summary.complete ? 0 : 1, unit: "Count" },
        },
        { timestampMs: Date.now(), dimensions },
      ),
    );
    return summary;
  } catch (err) {
    // Still report how late we are: a failing sweep is exactly when lag grows.
    process.stdout.write(
      emfLine(
        {
          SweepErrors: { value: 1, unit: "Count" },
          SweepLagSeconds: { value: lag?.lagSeconds() ?? 0, unit: "Seconds" },
        },
        { timestampMs: Date.now(), dimensions },
      ),
    );
    deps.log.error("sweep failed", { error: (err as Error).name });
    throw err;
  }
};
