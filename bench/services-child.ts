// The child of startServicesProcess (bench/services.ts): starts the services, sends their endpoints over the
// IPC channel, and stops on "exit" or when the bench goes away.
import "./env.ts";
import { type ServicesReady, startInlineServices } from "./services.ts";

const services = await startInlineServices();
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await services.close();
  process.exit(0);
};
process.on("message", (m) => {
  if (m === "exit") void stop();
});
process.on("disconnect", () => void stop());
const ready: ServicesReady = {
  dynamoEndpoint: services.dynamoEndpoint,
  awsEnv: services.aws.env(),
  awsClientConfig: services.aws.clientConfig,
};
process.send!(ready);
