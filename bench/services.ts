// What the broker calls, in a process of its own, as AWS would be: an in-memory dynalite and the loopback
// STS/IAM fixture. Forked by the bench (services-process.ts) with an IPC channel; it answers with their
// endpoints and stops on "exit" or when the bench goes away. The broker and the floor measured against it
// thus wait for their I/O instead of sharing one event loop with the engine that answers it.
import "./env.ts";
import { startLocalDynamo } from "../lib/local/dynalite.ts";
import { startAwsQueryServer } from "../test/fixtures/aws-query-server.ts";

const dynamo = await startLocalDynamo();
const aws = await startAwsQueryServer();
// The fixture keeps every call for tests' assertions; a benchmark has no use for them.
const forget = setInterval(() => {
  aws.calls.length = 0;
}, 1_000);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(forget);
  await Promise.all([dynamo.close(), aws.close()]);
  process.exit(0);
};
process.on("message", (m) => {
  if (m === "exit") void stop();
});
process.on("disconnect", () => void stop());
process.send!({ dynamoEndpoint: dynamo.endpoint, awsEnv: aws.env(), awsClientConfig: aws.clientConfig });
