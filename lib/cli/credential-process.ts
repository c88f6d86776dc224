// `credbroker credential-process`: the AWS `credential_process` contract. Version 1 JSON and nothing else
// on stdout; any failure is one line on stderr and a non-zero exit, and never includes a secret.
import { parseArgs } from "node:util";
import { AWS_CREDENTIALS_TOKEN_TYPE } from "../client/broker-client.ts";
import { CLIENT_OPTIONS, clientSetup, exchangeWith } from "./client-common.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export const CREDENTIAL_PROCESS_USAGE =
  "usage: credbroker credential-process --url URL --task TASK (--token-file F | --token-env VAR | --github [--audience A]) [--duration N] [--purpose TEXT] [--timeout SECONDS] [--wait SECONDS]";

export async function credentialProcessCommand(args: string[], io: CliIo): Promise<void> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${CREDENTIAL_PROCESS_USAGE}`, 2);
  }
  const setup = {
    ...clientSetup(values, io.env, CREDENTIAL_PROCESS_USAGE, io.err),
    requestedTokenType: AWS_CREDENTIALS_TOKEN_TYPE,
  };
  const response = await exchangeWith(setup);
  const c = response.credentials;
  if (!c)
    throw new CliError(
      `task ${setup.task} issues a bearer token, not AWS credentials; use \`credbroker exchange\` for it`,
    );
  // The SDKs and the CLI cache these until shortly before Expiration, then run the process again.
  io.out(
    `${JSON.stringify({ Version: 1, AccessKeyId: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken, Expiration: c.Expiration })}\n`,
  );
}

const parse = (args: string[]) => parseArgs({ args, options: CLIENT_OPTIONS, strict: true });
