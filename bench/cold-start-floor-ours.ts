// The floor function plus this repository's own JSON logger and EMF writer, one log line and one metric
// per request: against cold-start-floor-powertools.ts, what the hand-written pair costs at a cold start.
import { emfLine } from "../lib/aws/emf.ts";
import { jsonLogger } from "../lib/core/logger.ts";
import { handler as floor } from "./cold-start-floor.ts";

/** The floor's other clients, kept in the bundle as in the floor itself. */
export { clients } from "./cold-start-floor.ts";

const log = jsonLogger((line) => process.stdout.write(line), { service: "credbroker" });

export const handler = async () => {
  const answer = await floor();
  log.info("audit", { audit: { eventId: "cold-1", outcome: "issue" } });
  process.stdout.write(
    emfLine({ IssueLatency: { value: 1, unit: "Milliseconds" } }, { timestampMs: Date.now() }),
  );
  return answer;
};
