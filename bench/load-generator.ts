// The throughput figure's load generator, run as its own Node process so that the broker's process does the
// broker's work only: `node load-generator.ts JOB.json` reads the target URL, the task, the concurrency and
// the subject tokens, sends one POST /token per token over keep-alive connections, and prints
// {"issued","seconds"} on stdout. Bounded: it stops when the tokens run out or on the first non-200 answer.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

interface Job {
  url: string;
  task: string;
  concurrency: number;
  tokens: string[];
}

const job = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Job;
const target = new URL(job.url);
const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });

const exchange = (token: string) =>
  new Promise<number>((resolve, reject) => {
    const body = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: job.task,
    }).toString();
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: "/token",
        method: "POST",
        agent,
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });

let next = 0;
let issued = 0;
const worker = async () => {
  while (next < job.tokens.length) {
    const status = await exchange(job.tokens[next++]!);
    if (status !== 200) throw new Error(`POST /token answered ${status}`);
    issued++;
  }
};
const t0 = performance.now();
await Promise.all(Array.from({ length: job.concurrency }, worker));
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
process.stdout.write(`${JSON.stringify({ issued, seconds })}\n`);
