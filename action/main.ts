// The action's main step: request the job's OIDC token for the broker's audience, exchange it for the
// task's credential, mask every secret, export it to the job, and leave the grant id for the post step.
import { exchangeWaitingForApproval } from "../lib/client/approval-wait.ts";
import { BrokerClient, type ExchangeRequest, GITHUB_TOKEN_TYPE } from "../lib/client/broker-client.ts";
import { ApprovalNotGranted, BrokerRequestError } from "../lib/client/errors.ts";
import { postgresEnvironment } from "../lib/client/postgres-env.ts";
import { maskableParts, secretEnvironment } from "../lib/client/secret-env.ts";
import { fromGitHubActions } from "../lib/client/token-sources.ts";
import { ActionsRuntime } from "./runtime.ts";

async function main(rt: ActionsRuntime): Promise<void> {
  const url = rt.input("broker-url", { required: true });
  const task = rt.input("task", { required: true });
  const explicitAudience = rt.input("audience");
  const duration = rt.input("duration");
  const purpose = rt.input("purpose");
  const region = rt.input("aws-region");
  const wait = rt.input("wait-for-approval");
  if (duration !== "" && !/^[1-9][0-9]*$/.test(duration))
    throw new Error("input duration must be a whole number of seconds");
  if (wait !== "" && !/^[0-9]+$/.test(wait))
    throw new Error("input wait-for-approval must be a whole number of seconds");

  const client = new BrokerClient({ url });
  // Without an audience input, use the one the broker publishes in its metadata.
  const audience = explicitAudience || (await client.audience());
  // A fresh OIDC token for every attempt: a wait for approval can outlast one.
  const request = async (): Promise<ExchangeRequest> => {
    const subjectToken = await fromGitHubActions({ audience, env: rt.env })();
    rt.mask(subjectToken);
    return {
      subjectToken,
      task,
      ...(duration !== "" ? { durationSeconds: Number(duration) } : {}),
      ...(purpose !== "" ? { purpose } : {}),
    };
  };
  const response =
    wait === "" || wait === "0"
      ? await client.exchange(await request())
      : await exchangeWaitingForApproval(client, request, {
          waitSeconds: Number(wait),
          onPending: (p) =>
            rt.info(
              `credbroker: task ${task} waits for approval (approval id ${p.approvalId}, lapses in ${p.expiresIn} s); waiting up to ${wait} s. An approver runs: credbroker approvals approve ${p.approvalId} --url ${client.url} --token-file APPROVER_TOKEN_FILE`,
            ),
        });

  // Mask first, export after: nothing secret may reach a log line before the runner knows to hide it.
  const c = response.credentials;
  const secret = secretEnvironment(response);
  if (secret) {
    // A static secret under the task's variable; every line masked, since the runner masks line by line.
    for (const part of maskableParts(secret[1])) rt.mask(part);
    rt.exportVariable(secret[0], secret[1]);
  } else if (c) {
    rt.mask(c.AccessKeyId);
    rt.mask(c.SecretAccessKey);
    rt.mask(c.SessionToken);
    rt.exportVariable("AWS_ACCESS_KEY_ID", c.AccessKeyId);
    rt.exportVariable("AWS_SECRET_ACCESS_KEY", c.SecretAccessKey);
    rt.exportVariable("AWS_SESSION_TOKEN", c.SessionToken);
    rt.exportVariable("AWS_CREDENTIAL_EXPIRATION", c.Expiration);
    if (region !== "") {
      rt.exportVariable("AWS_REGION", region);
      rt.exportVariable("AWS_DEFAULT_REGION", region);
    }
  } else if (response.postgres) {
    // The libpq variables: psql, pg_dump and node-postgres in later steps connect without more setup.
    rt.mask(response.postgres.password);
    for (const [name, value] of postgresEnvironment(response.postgres)) rt.exportVariable(name, value);
  } else if (response.issued_token_type === GITHUB_TOKEN_TYPE) {
    // An installation token: a masked output, for `with: token: ${{ steps.x.outputs.github-token }}`, and
    // GH_TOKEN for the gh CLI. The post step deletes it with the grant.
    rt.mask(response.access_token);
    rt.setOutput("github-token", response.access_token);
    rt.exportVariable("GH_TOKEN", response.access_token);
  } else {
    rt.mask(response.access_token);
    rt.exportVariable("CREDBROKER_TOKEN", response.access_token);
  }
  rt.exportVariable("CREDBROKER_GRANT_ID", response.grant_id);
  rt.setOutput("grant-id", response.grant_id);
  rt.setOutput("expires-at", response.expires_at);
  rt.setOutput(
    "token-type",
    secret
      ? "secret"
      : c
        ? "aws-credentials"
        : response.postgres
          ? "postgres-credentials"
          : response.issued_token_type === GITHUB_TOKEN_TYPE
            ? "github-token"
            : "bearer",
  );
  // Only what the post step needs to release the grant; it asks the runtime for a fresh OIDC token.
  rt.saveState("grant_id", response.grant_id);
  rt.saveState("broker_url", client.url);
  rt.saveState("audience", audience);
  rt.info(`credbroker: grant ${response.grant_id} for task ${task}, expires ${response.expires_at}`);
}

const rt = new ActionsRuntime();
main(rt).catch((err: unknown) => {
  // BrokerRequestError messages carry the OAuth error and the decision id; none carries a secret.
  const hint =
    err instanceof BrokerRequestError && err.error === "authorization_pending"
      ? ` — approval id ${String(err.fields["approval_id"])}; set wait-for-approval to wait for it`
      : (err instanceof BrokerRequestError && err.denied) || err instanceof ApprovalNotGranted
        ? " — ask the broker's operators, quoting the decision id"
        : "";
  rt.error(`credbroker: ${(err as Error).message}${hint}`);
  process.exitCode = 1;
});
