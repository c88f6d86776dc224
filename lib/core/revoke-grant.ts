// Ends one grant: the status change first (one conditional write, so concurrent revokers agree on a single
// winner), then whatever the provider must do outside the broker. A provider failure leaves the grant
// marked revocationPending on the due index, so the sweep retries it: never dropped. An applied revocation
// is read back by the sweep a while later (IAM has no conditional write: another process may have
// overwritten it after our own check), then the grant waits on the index until its id can be pruned.

import type { AuditEvent } from "./audit.ts";
import { grantEvent } from "./audit.ts";
import { recordAudit } from "./audit-recorder.ts";
import { isoSeconds } from "./clock.ts";
import type { Grant, RevocationMode } from "./grant.ts";
import type { Logger } from "./logger.ts";
import { STALE_SLACK_MS } from "./providers/aws-sts/revocation-policy.ts";
import { RevocationRoleOutOfReach } from "./providers/aws-sts/role-reach.ts";
import { type CredentialProvider, RevocationUnderway } from "./providers/provider.ts";
import { PROVIDER_TRAITS } from "./providers/traits.ts";
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
  /** More of the revocation's audit event (an event's delivery id). */
  audit?: Pick<AuditEvent, "deliveryId" | "event">;
}

/**
 * How long after a revocation is applied the sweep reads it back: longer than any broker process runs a
 * write (the sweep function's 60 s timeout), so a rival that read the policy before our write has written.
 */
export const REVOCATION_RECHECK_MS = 90_000;

/**
 * When an ended grant's id may leave the revocation list: its expiry plus a margin, since a grant failed
 * while issuing had its expiry set before AssumeRole was called, and the session may outlive it a little.
 */
export const pruneAtMs = (grant: Grant): number => Date.parse(grant.expiresAt) + STALE_SLACK_MS;

/** Returns the revoked grant, or undefined when it was not active (someone else ended it first). */
export async function revokeGrant(
  deps: RevokeDeps,
  grant: Grant,
  options: RevokeOptions,
): Promise<Grant | undefined> {
  const now = deps.clock.now();
  const needsProvider = PROVIDER_TRAITS[grant.provider].endsOutside;
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
      ...options.audit,
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
  // Only other regions reach its outside system (a regional database): the grant stays pending, unchanged,
  // for their sweep; nothing here has failed.
  if (provider.regionalReach?.(grant) === "unreached") {
    deps.log.info("revocation left to a region that reaches the credential's database", {
      grantId: grant.grantId,
      provider: grant.provider,
      ...(grant.database ? { database: grant.database } : {}),
    });
    return grant;
  }
  try {
    const now = deps.clock.now();
    const mode = await provider.revoke(grant, now);
    const updated = await deps.store.update(grant.grantId, grant.status, {
      revocationPending: false,
      ...(mode ? { revocation: mode } : {}),
      ...(grant.revocationAwaiting ? { revocationAwaiting: null } : {}),
      // The credential is ended: nothing may be left to decrypt.
      ...(grant.tokenCiphertext ? { tokenCiphertext: null } : {}),
      // Come back to read it back (if the provider can), then once the credential has surely expired, to
      // prune its id from the revocation list.
      dueAtMs: provider.recheckRevocation
        ? Math.min(now + REVOCATION_RECHECK_MS, pruneAtMs(grant))
        : pruneAtMs(grant),
    });
    // The size fallback also ends other sessions of the role: an operator must be able to see why.
    if (mode === "token-issue-time")
      await auditTookEffect(deps, grant, { kind: "revoke", mode, reasons: [FALLBACK_REASON] });
    return updated;
  } catch (err) {
    if (err instanceof RevocationUnderway) return awaitRevocation(deps, grant, err);
    const fields = {
      grantId: grant.grantId,
      error: (err as Error).name,
      detail: (err as { detail?: string }).detail,
    };
    // Retrying cannot help until an operator names a writer role for the task: say so loudly.
    if (err instanceof RevocationRoleOutOfReach)
      deps.log.error(
        "revocation refused: the role is in another account and its task names no revocationRoleArn",
        {
          ...fields,
          roleArn: err.roleArn,
        },
      );
    else deps.log.warn("revocation not yet applied; the sweep will retry", fields);
    return undefined;
  }
}

/**
 * The provider did its part and the outside system is finishing it (a rotation moving AWSCURRENT): still
 * pending, due again when the provider asked, and marked as waiting so that it is not counted as failing.
 */
async function awaitRevocation(
  deps: RevokeDeps,
  grant: Grant,
  underway: RevocationUnderway,
): Promise<Grant | undefined> {
  try {
    const updated = await deps.store.update(grant.grantId, grant.status, {
      revocationAwaiting: grant.revocationAwaiting ?? isoSeconds(deps.clock.now()),
      dueAtMs: underway.retryAtMs,
    });
    deps.log.info("revocation underway; the sweep looks again", {
      grantId: grant.grantId,
      provider: grant.provider,
      detail: underway.detail,
    });
    return updated;
  } catch (err) {
    deps.log.warn("revocation underway, but not recorded; the sweep retries", {
      grantId: grant.grantId,
      error: (err as Error).name,
    });
    return undefined;
  }
}

/**
 * A revocation the provider could not do (as opposed to done, waiting on the outside system to finish, or
 * — given the providers — left to a region that reaches the outside system).
 */
export const revocationFailing = (grant: Grant | undefined, providers?: RevokeDeps["providers"]): boolean =>
  grant?.revocationPending === true &&
  grant.revocationAwaiting === undefined &&
  !leftToOtherRegions(grant, providers);

/** Whether only processes in other regions can end this grant's credential (CONTRACT §16). */
export const leftToOtherRegions = (grant: Grant, providers?: RevokeDeps["providers"]): boolean =>
  providers?.[grant.provider]?.regionalReach?.(grant) === "unreached";

export const REAPPLIED_REASON =
  "revocation missing from the role's credbroker-revocations policy (overwritten by another writer): applied again";

/**
 * Reads an applied revocation back. Still in place: the grant waits for pruning. Gone: it is written again
 * (and audited), and read back once more later. Throws when the provider cannot be reached; the grant
 * then stays due and the next sweep tries again.
 */
export async function recheckProviderRevocation(
  deps: RevokeDeps,
  grant: Grant,
): Promise<"held" | "reapplied"> {
  const provider = deps.providers[grant.provider];
  const now = deps.clock.now();
  const result = provider?.recheckRevocation ? await provider.recheckRevocation(grant, now) : undefined;
  if (!result?.reapplied) {
    await deps.store.update(grant.grantId, grant.status, { dueAtMs: pruneAtMs(grant) });
    return "held";
  }
  await deps.store.update(grant.grantId, grant.status, {
    revocation: result.mode,
    dueAtMs: Math.min(now + REVOCATION_RECHECK_MS, pruneAtMs(grant)),
  });
  deps.log.warn("revocation had gone from IAM; applied again", { grantId: grant.grantId });
  await auditTookEffect(deps, grant, {
    kind: "sweep",
    mode: result.mode,
    reasons: [REAPPLIED_REASON, ...(result.mode === "token-issue-time" ? [FALLBACK_REASON] : [])],
  });
  return "reapplied";
}

export const FALLBACK_REASON =
  "revocation list full: every session of the task's role issued before now is denied (aws:TokenIssueTime)";

/** An event on how an earlier revocation took effect in IAM: never counted as another revocation. */
async function auditTookEffect(
  deps: RevokeDeps,
  grant: Grant,
  fields: { kind: AuditEvent["kind"]; mode: RevocationMode; reasons: string[] },
): Promise<void> {
  const now = deps.clock.now();
  await recordAudit(
    deps.store,
    deps.log,
    grantEvent(grant, now, {
      kind: fields.kind,
      outcome: "revoke",
      reasons: fields.reasons,
      revocationMode: fields.mode,
    }),
  );
}
