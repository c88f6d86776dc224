// Ends one grant: the status change first (one conditional write, so concurrent revokers agree on a single
// winner), then whatever the provider must do outside the broker. A provider failure leaves the grant
// marked revocationPending on the due index, so the sweep retries it: never dropped.

import type { AuditEvent } from "./audit.ts";
import { grantEvent } from "./audit.ts";
import { recordAudit } from "./audit-recorder.ts";
import { isoSeconds } from "./clock.ts";
import type { Grant } from "./grant.ts";
import type { Logger } from "./logger.ts";
import type { CredentialProvider } from "./providers/provider.ts";
import { type GrantStore, TransitionConflict } from "./store.ts";

export interface RevokeDeps {
  store: GrantStore;
  providers: Partial<Record<Grant["provider"], CredentialProvider>>;
  clock: { now(): number };
  log: Logger;
}

export interface RevokeOptions {
  reason: string;
  policyIds?: string[];
  kind: AuditEvent["kind"];
  actor?: string;
  outcome?: AuditEvent["outcome"];
}

/** Returns the revoked grant, or undefined when it was not active (someone else ended it first). */
export async function revokeGrant(
  deps: RevokeDeps,
  grant: Grant,
  options: RevokeOptions,
): Promise<Grant | undefined> {
  const now = deps.clock.now();
  const needsProvider = grant.provider === "aws-sts";
  let revoked: Grant;
  try {
    revoked = await deps.store.transition(grant.grantId, "active", "revoked", {
      revokedAt: isoSeconds(now),
      reason: options.reason,
      // The grant names the policies that decided its end, when any did; otherwise those that allowed it.
      ...(options.policyIds?.length ? { policyIds: options.policyIds } : {}),
      ...(needsProvider ? { revocationPending: true, dueAtMs: now } : { dueAtMs: null }),
    });
  } catch (err) {
    if (err instanceof TransitionConflict) return undefined;
    throw err;
  }
  await recordAudit(
    deps.store,
    deps.log,
    grantEvent(grant, now, {
      kind: options.kind,
      outcome: options.outcome ?? "revoke",
      reasons: [options.reason],
      ...(options.policyIds ? { policyIds: options.policyIds } : {}),
      ...(options.actor ? { actor: options.actor } : {}),
    }),
  );
  if (needsProvider) return (await applyProviderRevocation(deps, revoked)) ?? revoked;
  return revoked;
}

/** Writes a pending revocation to the provider; on failure the grant stays pending for the sweep. */
export async function applyProviderRevocation(deps: RevokeDeps, grant: Grant): Promise<Grant | undefined> {
  const provider = deps.providers[grant.provider];
  if (!provider) {
    deps.log.error("revocation pending: provider not configured", {
      grantId: grant.grantId,
      provider: grant.provider,
    });
    return undefined;
  }
  try {
    const mode = await provider.revoke(grant, deps.clock.now());
    const updated = await deps.store.update(grant.grantId, grant.status, {
      revocationPending: false,
      ...(mode ? { revocation: mode } : {}),
      // Come back when the grant's credential has expired, to prune its id from the revocation list.
      dueAtMs: Date.parse(grant.expiresAt),
    });
    // The size fallback also ends other sessions of the role: an operator must be able to see why.
    if (mode === "token-issue-time") await auditFallback(deps, grant);
    return updated;
  } catch (err) {
    deps.log.warn("revocation not yet applied; the sweep will retry", {
      grantId: grant.grantId,
      error: (err as Error).name,
      detail: (err as { detail?: string }).detail,
    });
    return undefined;
  }
}

export const FALLBACK_REASON =
  "revocation list full: every session of the task's role issued before now is denied (aws:TokenIssueTime)";

async function auditFallback(deps: RevokeDeps, grant: Grant): Promise<void> {
  const now = deps.clock.now();
  await recordAudit(
    deps.store,
    deps.log,
    grantEvent(grant, now, {
      kind: "revoke",
      outcome: "revoke",
      reasons: [FALLBACK_REASON],
      revocationMode: "token-issue-time",
    }),
  );
}
