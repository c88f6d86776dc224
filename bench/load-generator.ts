// The throughput figure's load generator, run as its own Node process so that the broker's process does the
// broker's work only: `node load-generator.ts JOB.json` reads the target URL, the task, the concurrency and
// the subject tokens, sends one POST /token per token over keep-alive connections, and prints
// {"issued","seconds"} on stdout. Bounded: it stops when the tokens run out or on the first non-200 answer.
// Forked with an IPC channel and no job file, it is the issue figure's HTTP client instead: each message
// {url, task, tokens} is answered with {ms}, one round-trip time per token, sent one at a time.
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";

interface Job {
  url: string;
  task: string;
  concurrency: number;
  tokens: string[];
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const exchange = (target: URL, task: string, token: string) =>
  new Promise<number>((resolve, reject) => {
    const body = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: token,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      scope: task,
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

if (process.argv[2] === undefined && process.send) {
  // Serial mode: the parent interleaves these blocks with its baselines.
  process.on("message", async (msg: { url: string; task: string; tokens: string[] } | "exit") => {
    if (msg === "exit") {
      agent.destroy();
      process.disconnect();
      return;
    }
    const target = new URL(msg.url);
    const ms: number[] = [];
    try {
      for (const token of msg.tokens) {
        const t0 = performance.now();
        const status = await exchange(target, msg.task, token);
        ms.push(performance.now() - t0);
        if (status !== 200) throw new Error(`POST /token answered ${status}`);
      }
      process.send!({ ms });
    } catch (err) {
      process.send!({ error: (err as Error).message });
    }
  });
} else {
  const job = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Job;
  const target = new URL(job.url);
  let next = 0;
  let issued = 0;
  const worker = async () => {
    while (next < job.tokens.length) {
      const status = await exchange(target, job.task, job.tokens[next++]!);
      if (status !== 200) throw new Error(`POST /token answered ${status}`);
      issued++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: job.concurrency }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  process.stdout.write(`${JSON.stringify({ issued, seconds })}\n`);
}
