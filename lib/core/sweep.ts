// The sweep (CONTRACT §6, docs/lifecycle.md). Its cost follows change, not the number of live grants:
//   1. config change: a new config version is compared with the last one fully applied; if only workloads
//      changed, just those workloads are marked for re-evaluation, otherwise one resumable pass re-decides
//      every live grant once;
//   2. re-evaluation marks (signals, workload changes): that workload's live grants are re-decided;
//   3. the due index, shard by shard: expire what ran out, fail-and-revoke what was abandoned in `issuing`,
//      retry pending revocations, read applied ones back, prune revocation lists, and re-decide grants that
//      time alone can end (an exception's expiry, a time window) — they were put on the index at that moment;
//   4. leftovers: credentials no live grant owns (a PostgreSQL role left by a crash), a bounded batch a run.
// Every move is a conditional write, so concurrent sweeps agree on one winner.

import { lapseDueApprovals } from "./approvals/lapse.ts";
import type { AuditEvent } from "./audit.ts";
import { grantEvent } from "./audit.ts";
import { recordAudit } from "./audit-recorder.ts";
import { isoSeconds } from "./clock.ts";
import { ISSUING_TIMEOUT_MS } from "./exchange.ts";
import type { Grant } from "./grant.ts";
import { sha256Hex } from "./ids.ts";
import { PROVIDER_TRAITS } from "./providers/traits.ts";
import { type Outcome, type ReevaluateDeps, reevaluateGrant, reevaluateWorkload } from "./reevaluate.ts";
import { summariseClosedDays } from "./report/summaries.ts";
import {
  applyProviderRevocation,
  leftToOtherRegions,
  pruneAtMs,
  recheckProviderRevocation,
  revocationFailing,
} from "./revoke-grant.ts";
import { type SweepState, TransitionConflict } from "./store.ts";
import type { ShardLeases } from "./sweep-lease.ts";

/** What the sweep needs: the broker's deps without anything that signs or verifies tokens. */
export type SweepDeps = ReevaluateDeps;

export interface SweepOptions {
  /** Stop starting new work after this many ms; the returned cursor resumes. */
  budgetMs?: number;
  cursor?: string;
  pageSize?: number;
  /** Sweep only the shards whose lease this sweeper holds (CONTRACT §16: several regions or dev peers). */
  leases?: ShardLeases;
}

export interface SweepSummary {
  scanned: number;
  expired: number;
  revoked: number;
  failed: number;
  retried: number;
  pruned: number;
  /** Credentials that no live grant owned (left by a crash), found outside the due index and ended. */
  leftovers: number;
  /** Active grants decided again (and kept or revoked). */
  reevaluated: number;
  /** Transitions another sweep (or request) made first. */
  skipped: number;
  /**
   * Grants the sweep could not move this time (they stay due and the next sweep retries them), revocations
   * it could not write to the provider, and revocations it gave up on because the credential expired first.
   */
  errors: number;
  /** Set when the budget ran out before every shard was read. */
  cursor?: string;
  complete: boolean;
  /** Age of the oldest entry still due when the sweep stopped (0 when none): the lag alarm's input. */
  oldestDueAgeSeconds?: number;
  /** Approval requests that lapsed in this run (CONTRACT §10); absent when none did. */
  approvalsLapsed?: number;
  /** Shards of the due index another sweeper's live lease kept this one from (with `leases` only). */
  leasedElsewhere?: number;
  /**
   * Pending revocations only another region can apply (a database this region does not reach), left for
   * that region's sweep; absent when none were.
   */
  leftToOtherRegions?: number;
  /** Day summaries written for the report (lib/core/report/summaries.ts); absent when none were. */
  daySummaries?: number;
}

interface Cursor {
  shard: number;
  key?: string;
}

/** Reads "everything on the due index" when a pass must see every live grant. */
export const END_OF_TIME_MS = 9_999_999_999_999;

interface Run {
  deps: SweepDeps;
  started: number;
  deadline: number;
  pageSize: number;
  summary: SweepSummary;
  signals: Map<string, Promise<Record<string, string>>>;
  leases?: ShardLeases | undefined;
}

export async function sweepDue(deps: SweepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const started = deps.clock.now();
  const run: Run = {
    deps,
    started,
    deadline: started + (options.budgetMs ?? 50_000),
    pageSize: options.pageSize ?? 100,
    summary: {
      scanned: 0,
      expired: 0,
      revoked: 0,
      failed: 0,
      retried: 0,
      pruned: 0,
      leftovers: 0,
      reevaluated: 0,
      skipped: 0,
      errors: 0,
      complete: false,
    },
    signals: new Map(),
    leases: options.leases,
  };
  // A failing step never holds up the others: expiry above all must go on. Each failure is counted and
  // leaves the run incomplete, and the next run retries from durable state.
  const pass = await guarded(run, "config change", () => applyConfigChange(run));
  const marksDone = await guarded(run, "re-evaluation marks", () => processMarks(run));
  const resumeFrom = options.cursor ?? (await storedDueCursor(run));
  const dueDone = await guarded(run, "due index", () => sweepDueIndex(run, resumeFrom));
  const approvals = await guarded(run, "approvals", () =>
    lapseDueApprovals(deps, { deadlineMs: run.deadline }),
  );
  if (approvals && approvals.lapsed > 0) run.summary.approvalsLapsed = approvals.lapsed;
  if (!outOfTime(run)) await guarded(run, "leftovers", () => sweepLeftovers(run));
  let passDone = pass !== false; // false: the config step itself failed
  if (pass) passDone = (await guarded(run, "config pass", () => continuePass(run, pass))) === true;
  // Last, so it cannot bump the revision under the config pass of this same run.
  await saveDueCursor(run, resumeFrom);
  // The report's day summaries of the days just closed.
  if (!outOfTime(run)) await guarded(run, "day summaries", () => summariseDays(run));
  run.summary.complete = marksDone && dueDone && passDone && approvals !== false && approvals.complete;
  run.summary.oldestDueAgeSeconds = await oldestDueAge(run);
  await guarded(run, "sweep run record", () => recordRun(run));
  return run.summary;
}

/**
 * Summarises the days that closed lately (summaries.ts): the last two, in case a day's margin passed
 * between runs; older missing days are summarised by the report that reads them. Once they are written a
 * run reads just their two items. It writes nothing of the sweep state, so it cannot get in the way of a
 * config pass of another run.
 */
async function summariseDays(run: Run): Promise<void> {
  const { deps } = run;
  if (!deps.store.governance) return;
  const outcome = await summariseClosedDays(deps.store, deps.policies, {
    nowMs: run.started,
    deadlineMs: run.deadline,
    now: () => deps.clock.now(),
    lookbackDays: 2,
  });
  if (outcome.written > 0) run.summary.daySummaries = outcome.written;
}

/** The console's "last sweep": when it ran, whether it finished, its errors and lag. */
async function recordRun(run: Run): Promise<void> {
  const s = run.summary;
  await run.deps.store.governance?.putSweepRun({
    startedAt: new Date(run.started).toISOString(),
    finishedAt: new Date(run.deps.clock.now()).toISOString(),
    complete: s.complete,
    errors: s.errors,
    ...(s.oldestDueAgeSeconds !== undefined ? { oldestDueAgeSeconds: s.oldestDueAgeSeconds } : {}),
    expired: s.expired,
    revoked: s.revoked,
    daySummaries: s.daySummaries ?? 0,
  });
}

const outOfTime = (run: Run) => run.deps.clock.now() >= run.deadline;

/** Runs one step; on failure counts an error, logs it and answers `false` (not done). */
async function guarded<T>(run: Run, step: string, fn: () => Promise<T>): Promise<T | false> {
  try {
    return await fn();
  } catch (err) {
    run.summary.errors++;
    run.deps.log.warn("sweep step failed; the next sweep retries", { step, error: (err as Error).name });
    return false;
  }
}

function signalsOf(run: Run, workload: string): Promise<Record<string, string>> {
  let s = run.signals.get(workload);
  if (!s) {
    s = run.deps.store.getSignals(workload);
    run.signals.set(workload, s);
  }
  return s;
}

// ---- 1. config change -------------------------------------------------------------------------------

interface Digests {
  global: string;
  workloads: Record<string, string>;
}

/** Workload digests include the position: the inventory is first-match, so order is meaning. */
export function configDigests(deps: Pick<SweepDeps, "config" | "policies">): Digests {
  const { workloads, ...rest } = deps.config;
  const global = sha256Hex(JSON.stringify({ rest, policies: deps.policies })).slice(0, 16);
  const out: Record<string, string> = {};
  workloads.forEach((w, index) => {
    out[w.name] = sha256Hex(JSON.stringify({ index, w })).slice(0, 16);
  });
  return { global, workloads: out };
}

/** Returns the pass to run when every live grant must be re-decided; undefined when none is needed. */
async function applyConfigChange(run: Run): Promise<SweepState | undefined> {
  const { deps } = run;
  const state = await deps.store.getSweepState();
  if (state?.configVersion === deps.configVersion && !state.pass) return undefined;
  if (state?.pass?.configVersion === deps.configVersion) return state;
  const digests = configDigests(deps);
  // The shortcut holds only against a version that was fully applied, with no other pass half done.
  if (state?.globalDigest === digests.global && state.workloadDigests && !state.pass) {
    // Only the inventory changed: re-decide the workloads whose entry changed, moved or went away.
    const old = state.workloadDigests;
    const changed = new Set<string>();
    for (const [name, digest] of Object.entries(digests.workloads))
      if (old[name] !== digest) changed.add(name);
    for (const name of Object.keys(old)) if (!(name in digests.workloads)) changed.add(name);
    for (const name of changed) await deps.store.markReevaluation(name, run.started);
    await deps.store.putSweepState(
      {
        configVersion: deps.configVersion,
        globalDigest: digests.global,
        workloadDigests: digests.workloads,
        ...(state.dueCursor ? { dueCursor: state.dueCursor } : {}),
      },
      state.revision,
    );
    deps.log.info("config change: re-evaluating changed workloads", {
      configVersion: deps.configVersion,
      workloads: [...changed],
    });
    return undefined;
  }
  const { revision, ...rest } = state ?? { revision: undefined };
  const next = { ...rest, pass: { configVersion: deps.configVersion, shard: 0, startedAtMs: run.started } };
  if (!(await deps.store.putSweepState(next, revision))) return undefined; // another sweep started it
  deps.log.info("config change: re-evaluating every live grant once", { configVersion: deps.configVersion });
  return { ...next, revision: (revision ?? 0) + 1 };
}

/** Walks every shard of the due index to its end; progress is saved after each page, conditionally. */
async function continuePass(run: Run, state: SweepState): Promise<boolean> {
  const { deps, summary } = run;
  let revision = state.revision;
  const pass = state.pass!;
  const marked = new Set<string>();
  for (let shard = pass.shard; shard < deps.store.dueShards; shard++) {
    let key = shard === pass.shard ? pass.key : undefined;
    do {
      if (outOfTime(run)) return false;
      const page = await deps.store.listDue(shard, END_OF_TIME_MS, {
        ...(key ? { cursor: key } : {}),
        limit: run.pageSize,
      });
      for (const grant of page.items) {
        if (grant.configVersion === deps.configVersion) continue;
        if (grant.status === "issuing" && !marked.has(grant.workload)) {
          // Decided under the old config and not active yet: re-decide its workload once it is.
          marked.add(grant.workload);
          await deps.store.markReevaluation(grant.workload, run.started);
        }
        if (grant.status !== "active") continue;
        summary.scanned++;
        await reevaluate(run, grant, "if-sooner");
      }
      key = page.cursor;
      // A finished shard's cursor must not follow the pass into the next shard: it would not parse there.
      const { key: _finishedKey, ...passAtShardStart } = pass;
      const progress = key
        ? { ...state, pass: { ...pass, shard, key } }
        : { ...state, pass: { ...passAtShardStart, shard: shard + 1 } };
      const { revision: _r, ...body } = progress;
      if (!(await deps.store.putSweepState(body, revision))) return false; // another sweep took over the pass
      revision++;
    } while (key);
  }
  const digests = configDigests(deps);
  const { revision: _r, pass: _p, ...rest } = state;
  await deps.store.putSweepState(
    {
      ...rest,
      configVersion: deps.configVersion,
      globalDigest: digests.global,
      workloadDigests: digests.workloads,
    },
    revision,
  );
  return true;
}

// ---- 2. re-evaluation marks -------------------------------------------------------------------------

async function processMarks(run: Run): Promise<boolean> {
  const { deps, summary } = run;
  for (const mark of await deps.store.listReevaluations()) {
    if (outOfTime(run)) return false;
    try {
      const result = await reevaluateWorkload(deps, mark.workload, { kind: "sweep" });
      summary.scanned += result.evaluated;
      summary.reevaluated += result.evaluated - result.skipped;
      summary.revoked += result.revoked.length;
      summary.errors += result.revoked.filter((g) => revocationFailing(g, deps.providers)).length;
      summary.skipped += result.skipped;
      // Keep the mark until a request decided before the change can no longer be on its way to a grant.
      if (result.settled && deps.clock.now() >= mark.markedAtMs + ISSUING_TIMEOUT_MS)
        await deps.store.clearReevaluation(mark.workload, mark.markedAtMs);
    } catch (err) {
      summary.errors++;
      deps.log.warn("sweep could not re-evaluate a workload; the next sweep retries", {
        workload: mark.workload,
        error: (err as Error).name,
      });
    }
  }
  return true;
}

// ---- 3. the due index -------------------------------------------------------------------------------

/**
 * Reads the shards in order from where the last run stopped, round to where it started: to the last shard,
 * then from shard 0 up to the shard it started on. A backlog larger than one run's budget is thus worked
 * through run after run, instead of every run re-reading the first shards and never reaching the rest; and
 * a run is complete only once it has read every shard up to its own start time — a resumed run that stopped
 * at the last shard would leave the first shards unread since the run before, with grants there past their
 * expiry. The part of the starting shard before the stored key is not read again: the index is ordered by
 * due time, so what became due since the last run lies after the key.
 */
async function sweepDueIndex(run: Run, cursor: string | undefined): Promise<boolean> {
  const { deps, summary } = run;
  const shards = deps.store.dueShards;
  const start = parseCursor(cursor, shards, deps);
  for (let step = 0; step < shards; step++) {
    const shard = (start.shard + step) % shards;
    let key = step === 0 ? start.key : undefined;
    do {
      if (outOfTime(run)) {
        summary.cursor = encodeCursor({ shard, ...(key ? { key } : {}) });
        return false;
      }
      // Taken (or renewed) before every page: a sweeper that lost its lease stops sweeping the shard.
      if (run.leases && !(await run.leases.hold(shard))) {
        summary.leasedElsewhere = (summary.leasedElsewhere ?? 0) + 1;
        // Its holder may be a region that does not reach a regional database: what only regions like this
        // one can end is ended here, whoever holds the lease.
        if (hasRegionalProvider(deps) && !(await sweepRegionalPending(run, shard))) {
          summary.cursor = encodeCursor({ shard });
          return false;
        }
        break;
      }
      const page = await deps.store.listDue(shard, run.started, {
        ...(key ? { cursor: key } : {}),
        limit: run.pageSize,
      });
      for (const [i, grant] of page.items.entries()) {
        summary.scanned++;
        await sweepOne(run, grant);
        if (outOfTime(run) && i < page.items.length - 1) {
          // Stopped mid-page: the next run reads this page again. What this run did has left the index or
          // moved past now, and anything still there is safe to do again (every move is conditional).
          summary.cursor = encodeCursor({ shard, ...(key ? { key } : {}) });
          return false;
        }
      }
      key = page.cursor;
    } while (key);
  }
  return true;
}

const hasRegionalProvider = (deps: SweepDeps) =>
  Object.values(deps.providers).some((p) => p?.regionalReach !== undefined);

/** An ended grant whose credential is still to be ended outside the broker. */
const endedPending = (grant: Grant) =>
  grant.revocationPending === true &&
  (grant.status === "revoked" || grant.status === "failed" || grant.status === "expired");

/**
 * On a shard another sweeper holds: the pending revocations this region reaches and some regions do not.
 * The rest of the shard is the holder's. Answers false when the budget ran out first.
 */
async function sweepRegionalPending(run: Run, shard: number): Promise<boolean> {
  const { deps } = run;
  let key: string | undefined;
  do {
    if (outOfTime(run)) return false;
    const page = await deps.store.listDue(shard, run.started, {
      ...(key ? { cursor: key } : {}),
      limit: run.pageSize,
    });
    for (const grant of page.items) {
      if (!endedPending(grant)) continue;
      if (deps.providers[grant.provider]?.regionalReach?.(grant) !== "reached") continue;
      run.summary.scanned++;
      await sweepOne(run, grant);
    }
    key = page.cursor;
  } while (key);
  return true;
}

const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

/** A cursor that does not parse, or names a shard this table no longer has, restarts at shard 0. */
function parseCursor(cursor: string | undefined, shards: number, deps: SweepDeps): Cursor {
  if (!cursor) return { shard: 0 };
  try {
    const parsed = JSON.parse(Buffer.from(cursor, "base64url").toString()) as Partial<Cursor>;
    if (Number.isInteger(parsed.shard) && parsed.shard! >= 0 && parsed.shard! < shards)
      return { shard: parsed.shard!, ...(typeof parsed.key === "string" ? { key: parsed.key } : {}) };
  } catch {
    // falls through to the warning
  }
  deps.log.warn("sweep cursor not usable; starting at shard 0");
  return { shard: 0 };
}

/** Where the last run stopped; a failed read starts at shard 0, since expiry must go on regardless. */
async function storedDueCursor(run: Run): Promise<string | undefined> {
  try {
    return (await run.deps.store.getSweepState())?.dueCursor;
  } catch {
    return undefined;
  }
}

/**
 * Keeps where this run stopped for the next one (and forgets it once a run got round every shard). It is a
 * hint, not a lock: a lost race only means the next run starts elsewhere, and every move stays conditional.
 */
async function saveDueCursor(run: Run, resumedFrom: string | undefined): Promise<void> {
  const next = run.summary.cursor;
  if (next === resumedFrom) return;
  try {
    const state = await run.deps.store.getSweepState();
    if ((state?.dueCursor ?? undefined) === next) return;
    const { revision, dueCursor: _old, ...rest } = state ?? { revision: undefined };
    await run.deps.store.putSweepState({ ...rest, ...(next ? { dueCursor: next } : {}) }, revision);
  } catch (err) {
    run.deps.log.warn("sweep could not save where it stopped; the next run starts at shard 0", {
      error: (err as Error).name,
    });
  }
}

export const GAVE_UP_REASON =
  "revocation never applied; the credential has expired by itself, so the sweep stops retrying it";
export const PRUNED_REASON = "the credential has expired: its revocation left the role's revocation list";

async function sweepOne(run: Run, grant: Grant): Promise<void> {
  const { deps, summary } = run;
  const now = run.started;
  const traits = PROVIDER_TRAITS[grant.provider];
  // An expired grant of a provider whose credential outlives it is ended like a revoked one.
  const ended =
    grant.status === "revoked" ||
    grant.status === "failed" ||
    (grant.status === "expired" && grant.revocationPending === true);
  if (endedPending(grant) && leftToOtherRegions(grant, deps.providers)) {
    // Only a region that reaches its database can end it: left on the index, untouched, for that one's sweep.
    summary.leftToOtherRegions = (summary.leftToOtherRegions ?? 0) + 1;
    return;
  }
  // Past the moment nothing of the credential can be left (for aws-sts, the margin a session can outlive
  // its grant's recorded expiry by): nothing of it is left to deny.
  const credentialGone = now >= traits.credentialGoneAtMs(grant);
  try {
    if (grant.status === "active" && Date.parse(grant.expiresAt) <= now) {
      const expired = await deps.store.transition(
        grant.grantId,
        "active",
        "expired",
        traits.endsAtExpiry ? { revocationPending: true, dueAtMs: now } : { dueAtMs: null },
      );
      summary.expired++;
      await audit(deps, grant, "expire", ["expired"]);
      // A GitHub token or a PostgreSQL session would outlive the grant: expiry ends the credential too.
      if (traits.endsAtExpiry && !(await applyProviderRevocation(deps, expired))) summary.errors++;
    } else if (grant.status === "active") {
      // Due before its expiry: time alone may have changed the answer (an exception expired, a window closed).
      await reevaluate(run, grant, "always");
    } else if (grant.status === "issuing") {
      // The process died between the record and the credential: a credential may exist, so revoke by tag.
      const failed = await deps.store.transition(grant.grantId, "issuing", "failed", {
        reason: "abandoned while issuing",
        revokedAt: isoSeconds(now),
        ...(traits.endsOutside ? { revocationPending: true, dueAtMs: now } : { dueAtMs: null }),
      });
      summary.failed++;
      await audit(deps, grant, "fail", ["abandoned while issuing"]);
      if (traits.endsOutside) {
        const applied = await applyProviderRevocation(deps, failed);
        if (!applied) summary.errors++;
        else if (!leftToOtherRegions(applied, deps.providers)) summary.revoked++;
      }
    } else if (ended && grant.revocationPending && credentialGone) {
      // Its credential expired while the revocation could not be written (e.g. a role the broker may no
      // longer touch): nothing is left to deny, so stop retrying instead of retrying forever — but a
      // revocation that never took effect is a failure the alarm and the audit trail must show.
      await deps.store.update(grant.grantId, grant.status, {
        revocationPending: false,
        dueAtMs: null,
        ...(grant.tokenCiphertext ? { tokenCiphertext: null } : {}),
      });
      summary.errors++;
      deps.log.error("revocation never applied; the credential has expired by itself", {
        grantId: grant.grantId,
      });
      await audit(deps, grant, "error", [GAVE_UP_REASON]);
    } else if (ended && grant.revocationPending) {
      summary.retried++;
      const applied = await applyProviderRevocation(deps, grant);
      // Still pending but waiting on the outside system (a rotation under way): neither done nor failed.
      if (!applied) summary.errors++;
      else if (!applied.revocationPending) summary.revoked++;
    } else if (ended && credentialGone) {
      // The credential has expired by itself: its id can leave the role's revocation list.
      const provider = deps.providers[grant.provider];
      if (provider?.prune) await provider.prune(grant, now);
      await deps.store.update(grant.grantId, grant.status, { dueAtMs: null });
      summary.pruned++;
      if (grant.revocation) await audit(deps, grant, "change", [PRUNED_REASON]);
    } else if (ended && grant.revocation) {
      // Applied a while ago: read it back, since another process may have overwritten it after our check.
      if ((await recheckProviderRevocation(deps, grant)) === "reapplied") summary.retried++;
    } else if (grant.status === "expired") {
      await deps.store.update(grant.grantId, grant.status, { dueAtMs: null });
    } else {
      // Finished but its credential not yet expired: nothing to do until it is, so come back then.
      await deps.store.update(grant.grantId, grant.status, { dueAtMs: pruneAtMs(grant) });
    }
  } catch (err) {
    if (err instanceof TransitionConflict) {
      summary.skipped++;
      return;
    }
    summary.errors++;
    deps.log.warn("sweep could not move a grant; the next sweep retries", {
      grantId: grant.grantId,
      error: (err as Error).name,
    });
  }
}

// ---- 4. leftovers ------------------------------------------------------------------------------------

/** Each provider that can look for credentials outside the due index does, once, bounded by itself. */
async function sweepLeftovers(run: Run): Promise<void> {
  const { deps, summary } = run;
  for (const provider of Object.values(deps.providers)) {
    if (!provider?.sweepLeftovers) continue;
    const result = await provider.sweepLeftovers((id) => deps.store.getGrant(id), run.started);
    summary.leftovers += result.dropped;
    summary.errors += result.errors;
  }
}

async function reevaluate(run: Run, grant: Grant, reschedule: "always" | "if-sooner"): Promise<Outcome> {
  const { deps, summary } = run;
  try {
    const signals = await signalsOf(run, grant.workload);
    const result = await reevaluateGrant(deps, grant, signals, { kind: "sweep", reschedule });
    const { outcome } = result;
    if (outcome === "skipped") summary.skipped++;
    else summary.reevaluated++;
    if (outcome === "revoked") summary.revoked++;
    // Revoked in the store, but the provider refused the write: the next sweep retries it.
    if (revocationFailing(result.grant, deps.providers)) summary.errors++;
    return outcome;
  } catch (err) {
    summary.errors++;
    deps.log.warn("sweep could not re-evaluate a grant; the next sweep retries", {
      grantId: grant.grantId,
      error: (err as Error).name,
    });
    return "skipped";
  }
}

async function oldestDueAge(run: Run): Promise<number | undefined> {
  try {
    let oldest: number | undefined;
    for (let shard = 0; shard < run.deps.store.dueShards; shard++) {
      const due = await run.deps.store.oldestDue(shard, run.started);
      if (due !== undefined && (oldest === undefined || due < oldest)) oldest = due;
    }
    return oldest === undefined ? 0 : Math.max(0, Math.floor((run.started - oldest) / 1000));
  } catch {
    return undefined;
  }
}

async function audit(
  deps: SweepDeps,
  grant: Grant,
  outcome: AuditEvent["outcome"],
  reasons: string[],
): Promise<void> {
  const now = deps.clock.now();
  await recordAudit(deps.store, deps.log, grantEvent(grant, now, { kind: "sweep", outcome, reasons }));
}
