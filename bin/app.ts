// The CDK app (`npx cdk synth|deploy`, see cdk.json). The config comes from `-c config=FILE`, then
// CREDBROKER_CONFIG, then the demo config. No environment lookups: synth works offline without credentials.
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError } from "../lib/config/resolve.ts";
import { credbrokerRegionStacks } from "../lib/constructs/credbroker-region-stacks.ts";
import { CredbrokerStack } from "../lib/constructs/credbroker-stack.ts";
import { regionsFromContext, UnsupportedRegions } from "../lib/constructs/regions.ts";

const app = new App();
const configPath =
  (app.node.tryGetContext("config") as string | undefined) ??
  process.env["CREDBROKER_CONFIG"] ??
  "examples/broker.config.yaml";
const stackName = (app.node.tryGetContext("stackName") as string | undefined) ?? "Credbroker";

const regions = app.node.tryGetContext("regions") as string | undefined;
const witness = app.node.tryGetContext("witness") as string | undefined;

try {
  if (regions !== undefined)
    // Several regions (CONTRACT §16): a stack per region, `<stackName>-<region>`.
    credbrokerRegionStacks(app, stackName, {
      regions: regionsFromContext(String(regions), witness),
      description: "credbroker: just-in-time, task-scoped credentials for workloads",
      ...(process.env["CDK_DEFAULT_ACCOUNT"] ? { account: process.env["CDK_DEFAULT_ACCOUNT"] } : {}),
      broker: { configPath },
    });
  else if (witness !== undefined) throw new UnsupportedRegions(["-c witness needs -c regions"]);
  else
    new CredbrokerStack(app, stackName, {
      description: "credbroker: just-in-time, task-scoped credentials for workloads",
      // Environment-agnostic unless the CLI knows the target; nothing in the stack needs a lookup.
      ...(process.env["CDK_DEFAULT_ACCOUNT"] && process.env["CDK_DEFAULT_REGION"]
        ? { env: { account: process.env["CDK_DEFAULT_ACCOUNT"], region: process.env["CDK_DEFAULT_REGION"] } }
        : {}),
      broker: { configPath },
    });
} catch (err) {
  // A bad config or policy: say which file and line, without a stack trace, and fail synth.
  if (!(err instanceof ConfigError || err instanceof UnsupportedRegions)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(1);
}
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
