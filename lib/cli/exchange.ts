// `credbroker exchange`: one token exchange, printed as the broker's JSON or as shell `export` lines.
import { parseArgs } from "node:util";
import { type ExchangeResponse, GITHUB_TOKEN_TYPE } from "../client/broker-client.ts";
import { postgresEnvironment } from "../client/postgres-env.ts";
import { secretEnvironment } from "../client/secret-env.ts";
import { CLIENT_OPTIONS, clientSetup, exchangeWith } from "./client-common.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";

export const EXCHANGE_USAGE =
  "usage: credbroker exchange --url URL --task TASK (--token-file F | --token-env VAR | --github [--audience A]) [--duration N] [--purpose TEXT] [--timeout SECONDS] [--wait SECONDS] [--format json|env]";

export async function exchangeCommand(args: string[], io: CliIo): Promise<void> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(args).values;
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${EXCHANGE_USAGE}`, 2);
  }
  const format = values.format;
  if (format !== "json" && format !== "env") throw new CliError("--format must be json or env", 2);
  const response = await exchangeWith(clientSetup(values, io.env, EXCHANGE_USAGE, io.err));
  io.out(format === "env" ? envLines(response) : `${JSON.stringify(response, null, 2)}\n`);
}

const parse = (args: string[]) =>
  parseArgs({
    args,
    options: { ...CLIENT_OPTIONS, format: { type: "string", default: "json" } },
    strict: true,
  });

/** POSIX single quoting: safe for `eval "$(credbroker exchange … --format env)"` whatever the value holds. */
const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function envLines(response: ExchangeResponse): string {
  const secret = secretEnvironment(response);
  const vars: [string, string][] = secret
    ? [secret, ["CREDBROKER_TOKEN_EXPIRES_AT", response.expires_at]]
    : response.postgres
      ? postgresEnvironment(response.postgres)
      : response.credentials
        ? [
            ["AWS_ACCESS_KEY_ID", response.credentials.AccessKeyId],
            ["AWS_SECRET_ACCESS_KEY", response.credentials.SecretAccessKey],
            ["AWS_SESSION_TOKEN", response.credentials.SessionToken],
            // The SDK's environment provider reads this and refuses the credentials once they expire.
            ["AWS_CREDENTIAL_EXPIRATION", response.credentials.Expiration],
          ]
        : response.issued_token_type === GITHUB_TOKEN_TYPE
          ? [
              // git, gh and the Actions toolkit read these: a job's commands work unchanged with the broker's token.
              ["GITHUB_TOKEN", response.access_token],
              ["GH_TOKEN", response.access_token],
              ["CREDBROKER_TOKEN_EXPIRES_AT", response.expires_at],
            ]
          : [
              ["CREDBROKER_TOKEN", response.access_token],
              ["CREDBROKER_TOKEN_EXPIRES_AT", response.expires_at],
            ];
  vars.push(["CREDBROKER_GRANT_ID", response.grant_id]);
  return vars.map(([name, value]) => `export ${name}=${quote(value)}\n`).join("");
}
