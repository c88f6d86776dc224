// `credbroker approvals list|show|approve|deny` (CONTRACT §10): an approver's side, over HTTP against
// `--url` / CREDBROKER_URL, authenticated with the approver's own token (a file or an environment variable).
import { parseArgs } from "node:util";
import { BrokerClient } from "../client/broker-client.ts";
import { BrokerRequestError, BrokerUnreachable, TokenSourceError } from "../client/errors.ts";
import { fromTokenEnv, fromTokenFile } from "../client/token-sources.ts";
import { escapeUnsafeText } from "../core/text.ts";
import { CliError } from "./errors.ts";
import { type CliIo, table } from "./io.ts";

export const APPROVALS_USAGE =
  "usage: credbroker approvals list|show ID|approve ID|deny ID [--reason TEXT] (--token-file F | --token-env VAR) [--url URL] [--json]";

export async function approvalsCommand(args: string[], io: CliIo): Promise<void> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(args);
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${APPROVALS_USAGE}`, 2);
  }
  const { values, positionals } = parsed;
  const [sub, id, ...rest] = positionals;
  if (!sub || !["list", "show", "approve", "deny"].includes(sub) || rest.length > 0)
    throw new CliError(APPROVALS_USAGE, 2);
  if (sub !== "list" && !id)
    throw new CliError(`approvals ${sub} needs an approval ID\n${APPROVALS_USAGE}`, 2);
  const url = values.url ?? io.env["CREDBROKER_URL"];
  if (!url) throw new CliError(`--url (or CREDBROKER_URL) is required\n${APPROVALS_USAGE}`, 2);
  if ((values["token-file"] === undefined) === (values["token-env"] === undefined))
    throw new CliError(
      `give exactly one of --token-file, --token-env (the approver's token)\n${APPROVALS_USAGE}`,
      2,
    );
  let client: BrokerClient;
  try {
    client = new BrokerClient({ url });
  } catch (err) {
    throw new CliError((err as Error).message, 2);
  }
  try {
    const token = await (values["token-file"] !== undefined
      ? fromTokenFile(values["token-file"])
      : fromTokenEnv(values["token-env"] as string, io.env))();
    if (sub === "list") {
      const items = await client.listApprovals(token);
      if (values.json) return io.out(`${JSON.stringify({ approvals: items }, null, 2)}\n`);
      return io.out(
        table(
          items.map((a) => ({
            id: a.approvalId,
            workload: a.workload,
            task: a.task,
            purpose: a.purpose,
            approvals: `${a.approvals}/${a.needed}`,
            expires: a.expiresAt,
            "you may": a.mayApprove === false ? "no" : "yes",
          })),
          ["id", "workload", "task", "purpose", "approvals", "expires", "you may"],
        ),
      );
    }
    if (sub === "show") {
      const a = await client.showApproval(id as string, token);
      if (values.json) return io.out(`${JSON.stringify(a, null, 2)}\n`);
      return io.out(
        `${Object.entries(a)
          .map(
            ([k, v]) =>
              `${k.padEnd(16)} ${escapeUnsafeText(typeof v === "object" ? JSON.stringify(v) : String(v))}`,
          )
          .join("\n")}\n`,
      );
    }
    const answer = await client.decideApproval({
      approvalId: id as string,
      decision: sub as "approve" | "deny",
      approverToken: token,
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
    });
    if (values.json) return io.out(`${JSON.stringify(answer, null, 2)}\n`);
    io.out(
      `approval ${answer.approvalId}: ${answer.status} (${answer.approvals} of ${answer.needed} approvals)\n`,
    );
  } catch (err) {
    throw explain(err, id);
  }
}

const parse = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: "string" },
      "token-file": { type: "string" },
      "token-env": { type: "string" },
      reason: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });

function explain(err: unknown, id: string | undefined): Error {
  if (err instanceof TokenSourceError) return new CliError(err.message);
  if (err instanceof BrokerUnreachable) return new CliError(`broker unreachable: ${err.url} (${err.reason})`);
  if (err instanceof BrokerRequestError) {
    if (err.status === 401)
      return new CliError(
        "the broker refused the approver token (401 invalid_token): it must come from an approvals.issuers issuer and be fresh",
      );
    if (err.status === 403)
      return new CliError(`no approve policy permits you to decide approval ${id}; nothing was counted`);
    if (err.status === 404) return new CliError(`no approval request ${id}`);
    if (err.status === 409)
      return new CliError(
        `approval ${id} is no longer pending (${String(err.fields["status"] ?? "decided")})`,
      );
    return new CliError(
      `the broker refused: ${err.error}${err.errorDescription ? `: ${err.errorDescription}` : ""}`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}
