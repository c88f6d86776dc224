// The action's post step, run at job end even when the job failed: release the grant early (RFC 7009
// `POST /revoke`) so the credential stops working with the job. A failure here only warns: the grant
// still ends at its expiry.
import { BrokerClient } from "../lib/client/broker-client.ts";
import { fromGitHubActions } from "../lib/client/token-sources.ts";
import { ActionsRuntime } from "./runtime.ts";

async function post(rt: ActionsRuntime): Promise<void> {
  const grantId = rt.state("grant_id");
  if (grantId === "") {
    rt.info("credbroker: no grant to release");
    return;
  }
  const client = new BrokerClient({ url: rt.state("broker_url") });
  const audience = rt.state("audience") || (await client.audience());
  const subjectToken = await fromGitHubActions({ audience, env: rt.env })();
  rt.mask(subjectToken);
  await client.release({ token: grantId, subjectToken });
  rt.info(`credbroker: released grant ${grantId}`);
}

const rt = new ActionsRuntime();
post(rt).catch((err: unknown) => {
  rt.warning(`credbroker: could not release the grant; it ends at its expiry (${(err as Error).message})`);
});
