// CONTRACT §18 `eventRevokeMs100`: a signed `workflow_run` completed delivery that ends 100 active grants,
// from the request to the answer (every revocation durable), on dynalite like every other figure. The
// median of a few rounds, each with a run of its own.

import { EVENTS_CONFIG, githubDeliverer } from "../test/events/in-process.ts";
import { githubExample } from "../test/events/support.ts";
import { baseConfig, closeSharedDynamo, createTestBroker } from "../test/support/broker.ts";

export interface EventFigures {
  eventRevokeMs100: number;
  eventRevokeMs100Rounds: number[];
}

export async function benchEvents(options: { rounds?: number; grants?: number } = {}): Promise<EventFigures> {
  const rounds = options.rounds ?? 5;
  const grants = options.grants ?? 100;
  const broker = await createTestBroker({ config: (i) => baseConfig(i, { events: EVENTS_CONFIG }) });
  const deliver = githubDeliverer(broker);
  const times: number[] = [];
  try {
    for (let round = 0; round < rounds; round++) {
      const runId = 8_000_000 + round;
      const token = await broker.issuer.mint(
        { repository: "acme/web", repository_id: "186853002", run_id: String(runId), run_attempt: "1" },
        { nowMs: broker.clock.now() },
      );
      for (let i = 0; i < grants; i += 10)
        await Promise.all(
          Array.from({ length: Math.min(10, grants - i) }, async () => {
            const issued = await broker.exchange(token);
            if (issued.status !== 200) throw new Error(`issue failed: ${JSON.stringify(issued.body)}`);
          }),
        );
      const payload = githubExample("workflow_run", "completed");
      (payload["repository"] as { id: number }).id = 186853002;
      (payload["workflow_run"] as { id: number; run_attempt: number }).id = runId;
      const started = performance.now();
      const answer = await deliver("workflow_run", payload);
      const ms = performance.now() - started;
      if (answer.body["ended"] !== grants)
        throw new Error(`ended ${String(answer.body["ended"])} of ${grants}`);
      times.push(Math.round(ms * 10) / 10);
    }
  } finally {
    await closeSharedDynamo();
  }
  const sorted = [...times].sort((a, b) => a - b);
  return { eventRevokeMs100: sorted[Math.floor(sorted.length / 2)]!, eventRevokeMs100Rounds: times };
}
