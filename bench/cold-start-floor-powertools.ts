// The floor function plus Powertools for AWS Lambda's Logger and Metrics doing what the hand-written pair
// does (one structured log line and one metric per request), to measure what adopting them would add to
// a cold start and to the bundle (BENCHMARKS.md). Powertools is a devDependency for this measurement only.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { handler as floor } from "./cold-start-floor.ts";

/** The floor's other clients, kept in the bundle as in the floor itself. */
export { clients } from "./cold-start-floor.ts";

const logger = new Logger({ serviceName: "credbroker" });
const metrics = new Metrics({ namespace: "credbroker", serviceName: "credbroker" });

export const handler = async () => {
  const answer = await floor();
  logger.info("audit", { audit: { eventId: "cold-1", outcome: "issue" } });
  metrics.addMetric("IssueLatency", MetricUnit.Milliseconds, 1);
  metrics.publishStoredMetrics();
  return answer;
};
