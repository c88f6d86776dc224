// The sweep (CONTRACT §6): walks the due index shard by shard and moves each due grant on exactly once —
// expire what ran out, fail-and-revoke what was abandoned in `issuing`, retry pending revocations, prune
// revocation lists. Every move is a conditional write, so concurrent sweeps agree on one winner.
import type { AuditEvent } from "./audit.ts";
import { recordAudit } from "./audit-recorder.ts";
import { isoSeconds } from "./clock.ts";
import type { Grant } from "./grant.ts";
import { newId } from "./ids.ts";
import type { Logger } from "./logger.ts";
import type { CredentialProvider } from "./providers/provider.ts";
import { applyProviderRevocation } from "./revoke-grant.ts";
import { type GrantStore, TransitionConflict } from "./store.ts";

export interface SweepDeps {
  store: GrantStore;
  providers: Partial<Record<Grant["provider"], CredentialProvider>>;
  clock: { now(): number };
  log: Logger;
}

export interface SweepOptions {
  /** Stop starting new work after this many ms; the returned cursor resumes. */
  budgetMs?: number;
  cursor?: string;
  pageSize?: number;
}

export interface SweepSummary {
  scanned: number;
  expired: number;
  revoked: number;
  failed: number;
  retried: number;
  pruned: number;
  /** Transitions another sweep (or request) made first. */
  skipped: number;
  /** Set when the budget ran out before every shard was read. */
  cursor?: string;
  complete: boolean;
}

interface Cursor {
  shard: number;
  key?: string;
}

export async function sweepDue(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = deps.clock.now();
  const deadline = started + (options.budgetMs ?? 50_000);
  const summary: SweepSummary = { scanned: 0, expired: 0, revoked: 0, failed: 0, retried: 0, pruned: 0, skipped: 0, complete: false };
  const start: Cursor = options.cursor ? JSON.parse(Buffer.from(options.cursor, "base64url").toString()) : { shard: 0 };

  for (let shard = start.shard; shard < deps.store.dueShards; shard++) {
    let key = shard === start.shard ? start.key : undefined;
    do {
      if (deps.clock.now() >= deadline) {
        summary.cursor = Buffer.from(JSON.stringify({ shard, ...(key ? { key } : {}) } satisfies Cursor)).toString("base64url");
        return summary;
      }
      const page = await deps.store.listDue(shard, started, { ...(key ? { cursor: key } : {}), limit: options.pageSize ?? 100 });
      for (const grant of page.items) {
        summary.scanned++;
        await sweepOne(deps, grant, started, summary);
      }
      key = page.cursor;
    } while (key);
  }
  summary.complete = true;
  return summary;
}

async function sweepOne(deps: SweepDeps, grant: Grant, now: number, summary: SweepSummary): Promise<void> {
  try {
    if (grant.status === "active" && Date.parse(grant.expiresAt) <= now) {
      await deps.store.transition(grant.grantId, "active", "expired", { dueAtMs: null });
      summary.expired++;
      await audit(deps, grant, "expire", ["expired"]);
    } else if (grant.status === "issuing") {
      // The process died between the record and the credential: a credential may exist, so revoke by tag.
      const failed = await deps.store.transition(grant.grantId, "issuing", "failed", {
        reason: "abandoned while issuing",
        revokedAt: isoSeconds(now),
        ...(grant.provider === "aws-sts" ? { revocationPending: true, dueAtMs: now } : { dueAtMs: null }),
      });
      summary.failed++;
      await audit(deps, grant, "fail", ["abandoned while issuing"]);
      if (grant.provider === "aws-sts") {
        if (await applyProviderRevocation(deps, failed)) summary.revoked++;
      }
    } else if ((grant.status === "revoked" || grant.status === "failed") && grant.revocationPending) {
      summary.retried++;
      if (await applyProviderRevocation(deps, grant)) summary.revoked++;
    } else if ((grant.status === "revoked" || grant.status === "failed") && Date.parse(grant.expiresAt) <= now) {
      // The credential has expired by itself: its id can leave the role's revocation list.
      const provider = deps.providers[grant.provider] as (CredentialProvider & { prune?(g: Grant, nowMs: number): Promise<void> }) | undefined;
      if (provider?.prune) await provider.prune(grant, now);
      await deps.store.update(grant.grantId, grant.status, { dueAtMs: null });
      summary.pruned++;
    }
  } catch (err) {
    if (err instanceof TransitionConflict) {
      summary.skipped++;
      return;
    }
    deps.log.warn("sweep could not move a grant; the next sweep retries", { grantId: grant.grantId, error: (err as Error).name });
  }
}

async function audit(deps: SweepDeps, grant: Grant, outcome: AuditEvent["outcome"], reasons: string[]): Promise<void> {
  const now = deps.clock.now();
  await recordAudit(deps.store, deps.log, {
    eventId: newId(now),
    time: new Date(now).toISOString(),
    kind: "sweep",
    outcome,
    grantId: grant.grantId,
    decisionId: grant.decisionId,
    workload: grant.workload,
    subject: grant.subject,
    issuer: grant.issuer,
    task: grant.task,
    policyIds: grant.policyIds,
    reasons,
    sourceIp: grant.sourceIp,
  });
}
