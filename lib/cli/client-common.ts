// What `credbroker exchange` and `credbroker credential-process` share: the flags that pick the identity
// token's source, and one-line explanations of client failures (never quoting a token or a secret).
import { exchangeWaitingForApproval } from "../client/approval-wait.ts";
import { BrokerClient, type ExchangeRequest, type ExchangeResponse } from "../client/broker-client.ts";
import {
  ApprovalNotGranted,
  BrokerRequestError,
  BrokerResponseInvalid,
  BrokerUnreachable,
  TokenSourceError,
} from "../client/errors.ts";
import {
  fromGitHubActions,
  fromTokenEnv,
  fromTokenFile,
  type TokenProvider,
  unverifiedExpiry,
} from "../client/token-sources.ts";
import { CliError } from "./errors.ts";
import { cliCommand } from "./invocation.ts";

export const CLIENT_OPTIONS = {
  url: { type: "string" },
  task: { type: "string" },
  "token-file": { type: "string" },
  "token-env": { type: "string" },
  github: { type: "boolean", default: false },
  audience: { type: "string" },
  duration: { type: "string" },
  purpose: { type: "string" },
  timeout: { type: "string" },
  wait: { type: "string" },
} as const;

export interface ClientFlags {
  url?: string | undefined;
  task?: string | undefined;
  "token-file"?: string | undefined;
  "token-env"?: string | undefined;
  github?: boolean | undefined;
  audience?: string | undefined;
  duration?: string | undefined;
  purpose?: string | undefined;
  timeout?: string | undefined;
  wait?: string | undefined;
}

export interface ClientSetup {
  client: BrokerClient;
  task: string;
  token: TokenProvider;
  durationSeconds?: number;
  purpose?: string;
  /** Set by credential-process: the broker then refuses a jwt task before issuing anything. */
  requestedTokenType?: string;
  /** `--wait SECONDS`: wait this long for people to approve a task that needs it (CONTRACT §10). */
  waitSeconds?: number;
  /** Where the pending line goes (stderr): never stdout, which carries only the credential. */
  say?: (line: string) => void;
}

export function clientSetup(
  values: ClientFlags,
  env: NodeJS.ProcessEnv,
  usage: string,
  say?: (line: string) => void,
): ClientSetup {
  const url = values.url ?? env["CREDBROKER_URL"];
  if (!url || !values.task) throw new CliError(`--url and --task are required\n${usage}`, 2);
  const sources = [
    values["token-file"] !== undefined,
    values["token-env"] !== undefined,
    values.github === true,
  ].filter(Boolean);
  if (sources.length !== 1)
    throw new CliError(`give exactly one of --token-file, --token-env, --github\n${usage}`, 2);
  const client = newClient(url, values.timeout);
  let token: TokenProvider;
  if (values["token-file"] !== undefined) token = fromTokenFile(values["token-file"]);
  else if (values["token-env"] !== undefined) token = fromTokenEnv(values["token-env"], env);
  else {
    const explicit = values.audience ?? env["CREDBROKER_AUDIENCE"];
    token = async () => {
      // The broker publishes its audience in its metadata; ask it rather than make every job configure it.
      const audience = explicit ?? (await client.audience());
      return fromGitHubActions({ audience, env })();
    };
  }

  const setup: ClientSetup = { client, task: values.task, token };
  if (values.duration !== undefined) {
    const d = Number(values.duration);
    if (!Number.isInteger(d) || d <= 0) throw new CliError("--duration must be a whole number of seconds", 2);
    setup.durationSeconds = d;
  }
  if (values.purpose !== undefined) setup.purpose = values.purpose;
  if (values.wait !== undefined) {
    const w = Number(values.wait);
    if (!Number.isInteger(w) || w < 0) throw new CliError("--wait must be a whole number of seconds", 2);
    setup.waitSeconds = w;
  }
  if (say) setup.say = say;
  return setup;
}

function newClient(url: string, timeout: string | undefined): BrokerClient {
  const timeoutMs = timeout === undefined ? undefined : Number(timeout) * 1000;
  if (timeoutMs !== undefined && !(timeoutMs > 0))
    throw new CliError("--timeout must be a number of seconds", 2);
  try {
    return new BrokerClient({ url, ...(timeoutMs ? { timeoutMs } : {}) });
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
}

/** Gets the identity token and exchanges it; every failure becomes one clear CliError line. */
export async function exchangeWith(
  setup: ClientSetup,
  now: () => number = Date.now,
): Promise<ExchangeResponse> {
  let subjectToken: string | undefined;
  const request = async (): Promise<ExchangeRequest> => {
    subjectToken = await setup.token();
    return {
      subjectToken,
      task: setup.task,
      ...(setup.durationSeconds !== undefined ? { durationSeconds: setup.durationSeconds } : {}),
      ...(setup.purpose !== undefined ? { purpose: setup.purpose } : {}),
      ...(setup.requestedTokenType !== undefined ? { requestedTokenType: setup.requestedTokenType } : {}),
    };
  };
  try {
    if (setup.waitSeconds === undefined) return await setup.client.exchange(await request());
    return await exchangeWaitingForApproval(setup.client, request, {
      waitSeconds: setup.waitSeconds,
      onPending: (p) =>
        setup.say?.(
          `credbroker: task ${setup.task} waits for approval (approval id ${p.approvalId}, lapses in ${p.expiresIn} s); waiting up to ${setup.waitSeconds} s. An approver runs:\n  ${approveCommand(setup.client.url, p.approvalId)}\n`,
        ),
    });
  } catch (err) {
    throw explain(err, setup, subjectToken, now());
  }
}

/** The command an approver runs for one request (CONTRACT §10). */
export const approveCommand = (url: string, approvalId: string) =>
  `${cliCommand()} approvals approve ${approvalId} --url ${url} --token-file APPROVER_TOKEN_FILE [--reason TEXT]`;

function explain(err: unknown, setup: ClientSetup, subjectToken: string | undefined, nowMs: number): Error {
  if (err instanceof TokenSourceError) return new CliError(err.message);
  if (err instanceof ApprovalNotGranted) {
    const decision = err.decisionId ? ` (decision ${err.decisionId})` : "";
    return new CliError(`no credential for task ${setup.task}: ${err.message}${decision}`);
  }
  if (err instanceof BrokerRequestError && err.error === "authorization_pending") {
    const id = String(err.fields["approval_id"] ?? "");
    return new CliError(
      `task ${setup.task} waits for approval (approval id ${id}); nothing was issued yet. An approver runs:\n  ${approveCommand(setup.client.url, id)}\nthen run this again (with --wait SECONDS to wait for it)`,
    );
  }
  if (err instanceof BrokerUnreachable) return new CliError(`broker unreachable: ${err.url} (${err.reason})`);
  if (err instanceof BrokerResponseInvalid) return new CliError(err.message);
  if (err instanceof BrokerRequestError) {
    const decision = err.decisionId
      ? ` (decision ${err.decisionId}; quote it to the broker's operators)`
      : "";
    if (err.denied)
      return new CliError(
        `denied: the broker refused task ${setup.task}: ${err.errorDescription ?? err.error}${decision}`,
      );
    if (
      setup.requestedTokenType &&
      err.error === "invalid_request" &&
      /requested_token_type/.test(err.errorDescription ?? "")
    )
      return new CliError(
        `task ${setup.task} does not issue AWS credentials (not an aws-sts task: a jwt, github, postgres or secret task); use \`credbroker exchange\` for it (\`--format env\` prints GITHUB_TOKEN and GH_TOKEN for a github task, the task's variable for a secret task)`,
      );
    const exp = subjectToken ? unverifiedExpiry(subjectToken) : undefined;
    if (err.error === "invalid_request" && exp !== undefined && exp * 1000 <= nowMs)
      return new CliError(
        `the identity token expired at ${new Date(exp * 1000).toISOString()}; get a fresh token and retry`,
      );
    if (err.error === "invalid_request" && /expired/.test(err.errorDescription ?? ""))
      return new CliError(
        `the identity token is expired or not yet valid (${err.errorDescription}); get a fresh token and retry`,
      );
    if (err.retryable)
      return new CliError(
        `the broker is temporarily unavailable: ${err.errorDescription ?? err.error}; nothing was issued, retry`,
      );
    return new CliError(
      `the broker refused the request: ${err.error}${err.errorDescription ? `: ${err.errorDescription}` : ""}${decision}`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
