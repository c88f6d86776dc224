// What the broker calls in the issue and throughput figures: an in-memory dynalite and the loopback STS/IAM
// fixture. By default they run in a Node process of their own (bench/services-child.ts), as AWS runs apart
// from a Lambda: the broker and the floor measured against them then wait for their I/O instead of sharing
// one event loop with the engine that answers it. "inline" keeps them in the caller's process.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { type AwsQueryServer, startAwsQueryServer } from "../test/fixtures/aws-query-server.ts";

export interface BenchServices {
  /** "process": their own Node process; "inline": the caller's. */
  where: "process" | "inline";
  dynamoEndpoint: string;
  aws: Pick<AwsQueryServer, "env" | "clientConfig">;
  close(): Promise<void>;
}

/** dynalite and the STS fixture in this process. */
export async function startInlineServices(): Promise<BenchServices> {
  const dynamo = await startLocalDynamo();
  const aws = await startAwsQueryServer();
  // The fixture keeps every call for tests' assertions; a benchmark has no use for them.
  const forget = setInterval(() => {
    aws.calls.length = 0;
  }, 1_000);
  return {
    where: "inline",
    dynamoEndpoint: dynamo.endpoint,
    aws,
    async close() {
      clearInterval(forget);
      await Promise.all([dynamo.close(), aws.close()]);
    },
  };
}

/** What the child sends once it listens. */
export interface ServicesReady {
  dynamoEndpoint: string;
  awsEnv: Record<string, string>;
  awsClientConfig: AwsQueryServer["clientConfig"];
}

/** dynalite and the STS fixture in a child process, on the same Node and flags as this one. */
export async function startServicesProcess(): Promise<BenchServices> {
  const child = fork(fileURLToPath(new URL("./services-child.ts", import.meta.url)), [], {
    execPath: process.execPath,
    execArgv: process.execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<ServicesReady>((resolve, reject) => {
    child.once("message", (m) => resolve(m as ServicesReady));
    child.once("error", reject);
    void exited.then(() => reject(new Error("bench services exited before they were ready")));
  });
  return {
    where: "process",
    dynamoEndpoint: ready.dynamoEndpoint,
    aws: { env: () => ready.awsEnv, clientConfig: ready.awsClientConfig },
    async close() {
      if (child.connected) child.send("exit");
      await exited;
    },
  };
}
