// `npx tsx bench/v8-abort-repro.ts [REQUESTS] [CONCURRENCY]` (or `node --import tsx …` on another Node):
// the reproduction of the V8 deoptimizer abort of BENCHMARKS.md ("Known issue"). The broker of the bench
// (dev deps on an in-memory dynalite, the STS fixture) in this process, and its token handler called
// directly, CONCURRENCY at a time, for REQUESTS jwt-task requests. Exits 0 when every request was answered;
// on Node 20 the process may instead die with "Fatal error … unreachable code" in
// Deoptimizer::DoComputeBuiltinContinuation. Bounded: it stops after REQUESTS.
import "./env.ts";
import { createHandlers } from "../lib/http/handlers.ts";
import { startBenchBroker } from "./harness.ts";

const requests = Number(process.argv[2] ?? 4000);
const concurrency = Number(process.argv[3] ?? 16);
const broker = await startBenchBroker({ services: "inline" });
const handlers = createHandlers(broker.dev.deps);
const tokens = await broker.mintTokens(requests);
let next = 0;
let answered = 0;
const worker = async () => {
  while (next < tokens.length) {
    const body = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: tokens[next++]!,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: "read-reports",
    }).toString();
    const res = await handlers.token({
      rawPath: "/token",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      isBase64Encoded: false,
      requestContext: { http: { method: "POST", path: "/token", sourceIp: "127.0.0.1" } },
    });
    if (res.statusCode !== 200) throw new Error(`token handler answered ${res.statusCode}`);
    answered++;
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
process.stdout.write(
  `${process.version}: ${answered} of ${requests} answered, ${concurrency} at a time, in ${Math.round(performance.now() - t0)} ms\n`,
);
await broker.close();
