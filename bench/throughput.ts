// Figure 2: issued jwt-task grants per second through the dev server, one request at a time and with 16
// in flight. Each run issues a fixed number of grants; tokens are minted beforehand.
import { Agent } from "node:http";
import type { BenchBroker } from "./harness.ts";
import { round } from "./stats.ts";

export interface ThroughputFigures {
  issuePerSecondC1: number;
  issuePerSecondC16: number;
}

async function rate(broker: BenchBroker, tokens: string[], concurrency: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let issued = 0;
  const worker = async () => {
    while (next < tokens.length) {
      const token = tokens[next++]!;
      const status = await broker.exchange(token, "read-reports", agent);
      if (status !== 200) throw new Error(`POST /token answered ${status}`);
      issued++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  return issued / seconds;
}

export async function benchThroughput(
  broker: BenchBroker,
  options: { requests?: number } = {},
): Promise<ThroughputFigures> {
  const requests = options.requests ?? 1_500;
  const tokens = await broker.mintTokens(requests * 2 + 200);
  await rate(broker, tokens.slice(0, 200), 4); // warm-up
  const c1 = await rate(broker, tokens.slice(200, 200 + requests), 1);
  const c16 = await rate(broker, tokens.slice(200 + requests), 16);
  return { issuePerSecondC1: round(c1, 0), issuePerSecondC16: round(c16, 0) };
}
