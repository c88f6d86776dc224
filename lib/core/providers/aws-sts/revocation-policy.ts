// The role's credbroker-revocations inline policy as data (CONTRACT §6): a Deny of everything for sessions
// tagged with a listed grant id, and, once the list would outgrow IAM's inline limit, a Deny of every
// session of the role issued before a time. Pure: the IAM adapter reads, applies and writes it.

import { isoSeconds } from "../../clock.ts";
import type { RevocationMode } from "../../grant.ts";
import { idTimeMs } from "../../ids.ts";
import { GRANT_TAG, STS_MAX_DURATION_SECONDS } from "./limits.ts";

export const REVOCATION_POLICY_NAME = "credbroker-revocations";
/** IAM's limit for a role's inline policies, in characters without whitespace. */
export const IAM_INLINE_POLICY_MAX_CHARS = 10_240;

const LISTED_SID = "CredbrokerRevokedGrants";
const BEFORE_SID = "CredbrokerRevokedBefore";
const GRANT_TAG_KEY = `aws:PrincipalTag/${GRANT_TAG}`;
/**
 * Slack for clock skew between the broker and AWS, and for a session that outlives its grant's recorded
 * expiry (set before AssumeRole was called), before an id or an issue-time deny counts as stale.
 */
export const STALE_SLACK_MS = 5 * 60_000;

export interface RevocationState {
  grantIds: string[];
  /** ISO time: sessions issued before it are denied (the size fallback). */
  revokedBefore?: string;
  /** Statements someone else put in the policy: kept as they are. */
  others: unknown[];
}

export interface RevocationChanges {
  add: string[];
  remove: string[];
  nowMs: number;
  maxChars?: number;
  /** Only the issue-time deny, without listing the ids being added (IAM refused a larger document). */
  forceFallback?: boolean;
}

export interface AppliedChanges {
  state: RevocationState;
  /** Undefined when the policy should be deleted. */
  document: string | undefined;
  mode: RevocationMode;
}

export const emptyRevocationState = (): RevocationState => ({ grantIds: [], others: [] });

/** A grant issued at its id's time has expired by now whatever its duration: STS caps sessions at 12 h. */
const idIsStale = (grantId: string, nowMs: number): boolean => {
  const t = idTimeMs(grantId);
  return t !== undefined && t + STS_MAX_DURATION_SECONDS * 1000 + STALE_SLACK_MS < nowMs;
};

export function parseRevocationPolicy(text: string | undefined): RevocationState {
  const state = emptyRevocationState();
  if (text === undefined) return state;
  const doc = JSON.parse(text) as { Statement?: unknown };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  for (const s of statements as { Sid?: string; Condition?: Record<string, Record<string, unknown>> }[]) {
    if (s.Sid === LISTED_SID) {
      const ids = s.Condition?.["StringEquals"]?.[GRANT_TAG_KEY];
      state.grantIds.push(
        ...(Array.isArray(ids) ? ids : [ids]).filter((v): v is string => typeof v === "string"),
      );
    } else if (
      s.Sid === BEFORE_SID &&
      typeof s.Condition?.["DateLessThan"]?.["aws:TokenIssueTime"] === "string"
    ) {
      state.revokedBefore = s.Condition["DateLessThan"]["aws:TokenIssueTime"] as string;
    } else {
      state.others.push(s);
    }
  }
  return state;
}

/** The minified document, or undefined when nothing is denied any more. */
export function renderRevocationPolicy(state: RevocationState): string | undefined {
  const statements: unknown[] = [...state.others];
  if (state.grantIds.length > 0)
    statements.push({
      Sid: LISTED_SID,
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { StringEquals: { [GRANT_TAG_KEY]: state.grantIds } },
    });
  if (state.revokedBefore)
    statements.push({
      Sid: BEFORE_SID,
      Effect: "Deny",
      Action: "*",
      Resource: "*",
      Condition: { DateLessThan: { "aws:TokenIssueTime": state.revokedBefore } },
    });
  return statements.length === 0
    ? undefined
    : JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** The issue-time deny covers sessions issued before the next whole second after now. */
const fallbackTime = (nowMs: number): string => isoSeconds(Math.ceil((nowMs + 1) / 1000) * 1000);

/**
 * Adds and removes ids, drops ids and issue-time denies that can no longer match a live session, and falls
 * back to the issue-time deny when the list would not fit.
 */
export function applyRevocationChanges(current: RevocationState, changes: RevocationChanges): AppliedChanges {
  const maxChars = changes.maxChars ?? IAM_INLINE_POLICY_MAX_CHARS;
  const removed = new Set(changes.remove);
  const ids = new Set(current.grantIds.filter((id) => !removed.has(id) && !idIsStale(id, changes.nowMs)));
  for (const id of changes.add) ids.add(id);
  let revokedBefore = current.revokedBefore;
  if (
    revokedBefore &&
    Date.parse(revokedBefore) + STS_MAX_DURATION_SECONDS * 1000 + STALE_SLACK_MS < changes.nowMs
  )
    revokedBefore = undefined;

  const listed: RevocationState = {
    grantIds: [...ids],
    others: current.others,
    ...(revokedBefore ? { revokedBefore } : {}),
  };
  const listedDoc = renderRevocationPolicy(listed);
  if (!changes.forceFallback && (listedDoc === undefined || listedDoc.length <= maxChars))
    return { state: listed, document: listedDoc, mode: "grant-listed" };

  // Every listed session was issued before now, so one issue-time deny covers them all. The ids being added
  // stay listed too when they fit: a session still being issued elsewhere may carry a later issue time.
  const before = fallbackTime(changes.nowMs);
  const fallback: RevocationState = {
    grantIds: [],
    others: current.others,
    revokedBefore: revokedBefore && revokedBefore > before ? revokedBefore : before,
  };
  const withAdds = { ...fallback, grantIds: [...new Set(changes.add)] };
  const withAddsDoc = renderRevocationPolicy(withAdds);
  if (!changes.forceFallback && withAddsDoc !== undefined && withAddsDoc.length <= maxChars)
    return { state: withAdds, document: withAddsDoc, mode: "token-issue-time" };
  return { state: fallback, document: renderRevocationPolicy(fallback), mode: "token-issue-time" };
}

/**
 * How a written policy denies the sessions of a grant revoked at `revokedAtMs`: listed by id, or issued
 * before an issue-time deny later than the revocation (someone else's fallback may have replaced the list).
 */
export function coverage(
  state: RevocationState,
  grantId: string,
  revokedAtMs: number,
): RevocationMode | undefined {
  if (state.grantIds.includes(grantId)) return "grant-listed";
  if (state.revokedBefore !== undefined && Date.parse(state.revokedBefore) > revokedAtMs)
    return "token-issue-time";
  return undefined;
}
