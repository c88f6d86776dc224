// The scheduled sweep (EventBridge): one bounded run that leaves work for the next when time runs out.
// It publishes its outcome as EMF metrics (namespace credbroker), which the construct's alarms watch.
// In a multi-region broker (CONTRACT §16) it sweeps only the shards whose lease its region holds.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { emfLine } from "../lib/aws/emf.ts";
import { DynamoLeaseStore, SWEEP_LEASE_ENV } from "../lib/aws/lease-store.ts";
import { systemClock } from "../lib/core/clock.ts";
import { sweepDue } from "../lib/core/sweep.ts";
import { ShardLeases } from "../lib/core/sweep-lease.ts";
import { cedarReady } from "../lib/runtime/cedar-ready.ts";
import { readLambdaEnv } from "../lib/runtime/lambda-env.ts";
import { lambdaSweepDeps } from "../lib/runtime/lambda-runtime.ts";

// The alarm's dimension: several brokers in one account keep separate metrics.
const dimensions = { FunctionName: process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "credbroker-sweep" };
const deps = lambdaSweepDeps();
const leaseSeconds = process.env[SWEEP_LEASE_ENV];
// The region is the holder: a lost region's leases lapse for another region's sweep to take over.
const leases = leaseSeconds
  ? new ShardLeases(
      new DynamoLeaseStore(new DynamoDBClient({}), readLambdaEnv().tableName),
      process.env["AWS_REGION"] ?? "unknown-region",
      systemClock,
      Number(leaseSeconds),
    )
  : undefined;

export const handler = async (_event: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  try {
    await cedarReady();
    const summary = await sweepDue(deps, {
      budgetMs: Math.max(1_000, remaining - 10_000),
      ...(leases ? { leases } : {}),
    });
    deps.log.info("sweep", { summary });
    process.stdout.write(
      emfLine(
        {
          // Steps that failed inside a run that still expired what it could: the errors alarm adds them.
          SweepErrors: { value: summary.errors, unit: "Count" },
          // Only when the sweep could measure it: a missing lag breaches the lag alarm, a made-up 0 would not.
          ...(summary.oldestDueAgeSeconds !== undefined
            ? { SweepLagSeconds: { value: summary.oldestDueAgeSeconds, unit: "Seconds" as const } }
            : {}),
          SweepScanned: { value: summary.scanned, unit: "Count" },
          SweepExpired: { value: summary.expired, unit: "Count" },
          SweepRevoked: { value: summary.revoked, unit: "Count" },
          SweepLeftovers: { value: summary.leftovers, unit: "Count" },
          SweepIncomplete: { value: summary.complete ? 0 : 1, unit: "Count" },
        },
        { timestampMs: Date.now(), dimensions },
      ),
    );
    return summary;
  } catch (err) {
    process.stdout.write(
      emfLine({ SweepErrors: { value: 1, unit: "Count" } }, { timestampMs: Date.now(), dimensions }),
    );
    deps.log.error("sweep failed", { error: (err as Error).name });
    throw err;
  }
};
