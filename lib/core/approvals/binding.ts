// What an approval is bound to (CONTRACT §10): the credential request as the asking token renders it. A poll
// collects the approval only when its token renders the very same request, so a glob workload's other run,
// or a token whose claims render other repositories or another session policy, gets nothing approved for
// the first.
import type { TaskConfig } from "../../config/schema.ts";
import { sha256Hex } from "../ids.ts";
import type { CredentialProvider } from "../providers/provider.ts";

/**
 * Rendering is pure and deterministic; the grant id a session policy may name is not known yet, so a fixed
 * one stands in (the same for the request and every poll), and so does the time.
 */
const BINDING_GRANT_ID = "00000000000000000000000000";

export function renderedRequestSha256(
  provider: CredentialProvider,
  task: TaskConfig,
  workload: string,
  claims: Record<string, unknown>,
  durationSeconds: number,
): string {
  const prepared = provider.prepare({
    task,
    workload,
    grantId: BINDING_GRANT_ID,
    claims,
    durationSeconds,
    nowMs: 0,
  });
  return sha256Hex(JSON.stringify({ roleArn: prepared.roleArn ?? null, request: prepared.request }));
}
