// The token path, top to bottom: parse request → verify subject token → find task and workload → decide →
// render → record → issue → respond. Every step is a named call; every exit records one audit event, save a
// poll of a pending approval request, which is counted on the request instead. What does not wait on an
// earlier step overlaps it: the signals read with the verification, the decision with the signals read (kept
// only if the signals are the ones it was made on), the audit write with the activation.

import type { TaskConfig } from "../config/schema.ts";
import { renderedRequestSha256 } from "./approvals/binding.ts";
import { approvalGate } from "./approvals/gate.ts";
import type { AuditEvent } from "./audit.ts";
import { type AuditWrite, recordAudit, startAudit } from "./audit-recorder.ts";
import { epochSeconds, isoSeconds } from "./clock.ts";
import { decisionInput, recheckAt } from "./decision.ts";
import type { BrokerDeps } from "./deps.ts";
import { grantedDuration } from "./duration.ts";
import {
  asBrokerError,
  BrokerError,
  DependencyUnavailable,
  DisabledWorkload,
  ERROR_RESPONSES,
  PolicyDenied,
  TaskEnded,
  UnknownTask,
  UnregisteredWorkload,
  UnsupportedTokenType,
} from "./errors.ts";
import { checkTask, TASK_ENDED_DENIAL } from "./events/token-check.ts";
import type { Grant } from "./grant.ts";
import { claimedWorkload } from "./identity/claimed-workload.ts";
import { claimsToTags } from "./identity/claims.ts";
import type { VerifiedSubject } from "./identity/verifier.ts";
import { newId, sha256Hex } from "./ids.ts";
import { recordDecision, recordRefusal } from "./impact/recorded-input.ts";
import { parseParams } from "./params.ts";
import type { DecisionInput, DecisionResult } from "./policy/authorizer.ts";
import { decideAsSignalsArrive } from "./policy/speculative-decision.ts";
import {
  type CredentialProvider,
  ISSUED_TOKEN_TYPES,
  type IssuedCredential,
  type PreparedCredential,
} from "./providers/provider.ts";
import { PROVIDER_TRAITS } from "./providers/traits.ts";
import { TransitionConflict } from "./store.ts";
import { parseTokenRequest, type TokenRequest } from "./token-request.ts";

/** How long an `issuing` grant may stay so before the sweep treats its issuance as abandoned. */
export const ISSUING_TIMEOUT_MS = 60_000;

export interface TokenResponse {
  access_token: string;
  issued_token_type: string;
  token_type: "Bearer" | "N_A";
  expires_in: number;
  expires_at: string;
  scope: string;
  grant_id: string;
  credentials?: IssuedCredential["credentials"];
  /** Provider-specific objects (CONTRACT §8), from IssuedCredential.response. */
  github?: Record<string, unknown>;
  postgres?: Record<string, unknown>;
  /** secret tasks (CONTRACT §15): {name, versionId, env}; the value is access_token. */
  secret?: Record<string, unknown>;
}

/** A request body as received: parsed inside the token path, so a body refused as malformed is audited too. */
export interface RequestBody {
  contentType: string | undefined;
  bytes: Buffer;
}

export async function exchangeToken(
  deps: BrokerDeps,
  body: RequestBody,
  sourceIp: string,
): Promise<TokenResponse> {
  const started = deps.clock.now();
  const event: AuditEvent = {
    eventId: newId(started),
    time: new Date(started).toISOString(),
    kind: "token",
    outcome: "error",
    sourceIp,
  };
  /** The issue's audit write, sent beside the activation; `finally` awaits it. */
  let auditWrite: AuditWrite | undefined;
  /** False for an answer the audit already holds (a poll of a pending approval request). */
  let audited = true;
  /** What a refusal before the policies (unregistered, disabled) records as its input (CONTRACT §14). */
  let refused: Parameters<typeof recordRefusal>[0] | undefined;
  try {
    const request = parseTokenRequest(parseParams(body.contentType, body.bytes));
    event.subjectTokenSha256 = sha256Hex(request.subjectToken);
    if (request.purpose) event.purpose = request.purpose;

    // The signals read does not depend on the signature check, only on the workload: it starts from the
    // workload the token claims to be and is in flight while the token is verified. Only a verified token's
    // workload is decided with it (a token that maps elsewhere once verified is read for again).
    const early = earlySignalsRead(deps, request.subjectToken);
    // Verified before the task is looked up: an unauthenticated caller must not learn which task names exist.
    const subject = await deps.verifier.verify(request.subjectToken);
    const claimTags = claimsToTags(subject.claims);
    event.issuer = subject.issuer.name;
    event.subject = subject.subject;
    const task = findTask(deps, request);
    event.task = task.name;

    event.decisionId = newId(deps.clock.now());
    refused = {
      issuer: subject.issuer.name,
      subject: subject.subject,
      task: task.name,
      claimTags,
      context: {
        sourceIp,
        nowMs: deps.clock.now(),
        durationSeconds: requestedDuration(task, request.durationSeconds),
        purpose: request.purpose,
      },
    };
    const workload = findWorkload(deps, subject, event);
    const durationSeconds = grantedDuration(task, request.durationSeconds);
    event.durationSeconds = durationSeconds;

    const signals = early?.workload === workload.name ? early.signals : readSignals(deps, workload.name);
    // CONTRACT §13: a token of a CI job or run that has ended is refused; read while the decision is made.
    const taskCheck = checkTask(deps, subject);
    const { decision, input } = await decide(deps, subject.subject, claimTags, workload, task, signals, {
      sourceIp,
      durationSeconds,
      purpose: request.purpose,
    });
    refused = undefined;
    event.input = recordDecision(input, subject.issuer.name, decision.allowed, omitClaims(deps));
    event.policyIds = decision.policyIds;
    event.reasons = decision.reasons;
    if (decision.allowed && taskCheck && (await taskCheck.ended)) {
      event.reasons = [TASK_ENDED_DENIAL];
      throw new TaskEnded();
    }
    if (!decision.allowed) throw new PolicyDenied();
    const provider = deps.providers[task.provider];
    if (!provider) throw new DependencyUnavailable(`${task.provider} provider`, "provider not configured");
    // CONTRACT §10: a task that needs people's approval answers `authorization_pending` until they gave it.
    const approved = await approvalGate(deps, {
      task,
      approvalId: request.approvalId,
      workload,
      subject: subject.subject,
      issuer: subject.issuer.name,
      claimTags,
      subjectTokenSha256: event.subjectTokenSha256,
      // Rendered only for a task that waits for approval: the approval is bound to it.
      requestSha256:
        task.approval !== undefined || request.approvalId !== undefined
          ? renderedRequestSha256(provider, task, workload.name, subject.claims, durationSeconds)
          : "",
      purpose: request.purpose,
      durationSeconds,
      sourceIp,
      event,
    });
    const now = deps.clock.now();
    const grantId = approved?.grantId ?? newId(now);
    event.grantId = grantId;
    const prepared = provider.prepare({
      task,
      workload: workload.name,
      grantId,
      claims: subject.claims,
      durationSeconds,
      nowMs: now,
    });
    // A provider that must ask its system first (PostgreSQL's group roles) does so before anything is recorded.
    await provider.ready?.(prepared);

    const grant = await recordGrant(deps, {
      grantId,
      workload: workload.name,
      subject: subject.subject,
      issuer: subject.issuer.name,
      task: task.name,
      provider: task.provider,
      status: "issuing",
      issuedAt: isoSeconds(now),
      expiresAt: isoSeconds(now + durationSeconds * 1000),
      policyIds: decision.policyIds,
      sourceIp,
      purpose: request.purpose,
      decisionId: event.decisionId,
      durationSeconds,
      configVersion: deps.configVersion,
      subjectTokenSha256: event.subjectTokenSha256,
      // Claims are not secrets (the token is): kept so the sweep can re-decide the grant when context changes.
      claimTags,
      ...taskCheck?.grantFields,
      ...(prepared.roleArn ? { roleArn: prepared.roleArn } : {}),
      ...prepared.grantFields,
    });

    const issued = await issueCredential(deps, provider, prepared, grant);
    // The activation and the audit write do not depend on each other, so they go out together. The
    // credential is still only handed out once the grant is active; if the activation fails, `finally`
    // stores the event again with its real outcome (same key, so still one event for the request).
    auditWrite = startAudit(deps.store, { ...event, outcome: "issue" });
    const keyWrite = recordAccessKey(deps, issued, grant);
    await activateGrant(deps, grant, issued, recheckAt(deps.policies, decision, now)).catch(async (err) => {
      // Withheld: a credential the provider can end at once is ended now, not only by the sweep.
      await issued.discard?.().catch(() => {});
      throw err;
    });
    await keyWrite;
    event.outcome = "issue";
    return respond(task, grant, issued);
  } catch (err) {
    const error = asBrokerError(err);
    event.errorCode = error.code;
    if (error.unaudited) audited = false;
    if (
      error instanceof PolicyDenied ||
      error instanceof UnregisteredWorkload ||
      error instanceof DisabledWorkload ||
      error instanceof TaskEnded
    ) {
      event.outcome = "deny";
      if (!event.reasons) event.reasons = [error.message];
      if (refused && !event.input)
        event.input = recordRefusal({ ...refused, workload: event.workload }, omitClaims(deps));
    }
    if (event.decisionId && error.decisionId === undefined && event.outcome === "deny")
      error.decisionId = event.decisionId;
    // The HTTP handler logs a 503's detail once, with the request id.
    throw error;
  } finally {
    if (audited) await recordAudit(deps.store, deps.log, event, auditWrite);
  }
}

/**
 * With `events.findings`, an aws-sts grant's access key id is recorded so that a finding naming only the key
 * finds its grant (CONTRACT §13). Sent beside the activation; a failure is logged, never fails the issue (the
 * session name still names the grant).
 */
function recordAccessKey(
  deps: BrokerDeps,
  issued: IssuedCredential,
  grant: Grant,
): Promise<void> | undefined {
  if (!deps.config.events?.findings || !issued.accessKeyId || !deps.store.events) return undefined;
  return deps.store.events
    .recordAccessKey(issued.accessKeyId, grant.grantId, issued.expiresAtMs)
    .catch((err: unknown) =>
      deps.log.warn("access key not recorded", { grantId: grant.grantId, error: (err as Error).name }),
    );
}

function findTask(deps: BrokerDeps, request: TokenRequest): TaskConfig {
  const task = deps.tasks.get(request.task);
  if (!task) throw new UnknownTask();
  if (
    request.requestedTokenType !== undefined &&
    request.requestedTokenType !== ISSUED_TOKEN_TYPES[task.provider]
  )
    throw new UnsupportedTokenType("requested_token_type");
  return task;
}

/** The claims `audit.omitClaims` keeps out of recorded decision inputs. */
const omitClaims = (deps: BrokerDeps): readonly string[] => deps.config.audit?.omitClaims ?? [];

/** The duration a refused request asked for, as a replay would grant it (never throws: it is only recorded). */
function requestedDuration(task: TaskConfig, requested: number | undefined): number {
  try {
    return grantedDuration(task, requested);
  } catch {
    return requested ?? task.maxDurationSeconds;
  }
}

function findWorkload(deps: BrokerDeps, subject: VerifiedSubject, event: AuditEvent) {
  const workload = deps.workloads.match(subject.issuer.name, subject.subject);
  if (!workload) throw new UnregisteredWorkload();
  // Named before the disabled check, so `audit --workload` finds the denials of a disabled workload too.
  event.workload = workload.name;
  if (workload.disabled) throw new DisabledWorkload();
  return workload;
}

/** The workload's signals; a failed read is a 503 once it is awaited. */
function readSignals(deps: BrokerDeps, workload: string): Promise<Record<string, string>> {
  const read = deps.store.getSignals(workload).catch((err: unknown) => {
    throw new DependencyUnavailable("grant store", (err as Error).name);
  });
  // A read started early may never be awaited (the token turned out invalid): its failure is not unhandled.
  read.catch(() => undefined);
  return read;
}

function earlySignalsRead(
  deps: BrokerDeps,
  subjectToken: string,
): { workload: string; signals: Promise<Record<string, string>> } | undefined {
  const workload = claimedWorkload(deps.config.issuers, deps.workloads, subjectToken);
  return workload === undefined ? undefined : { workload, signals: readSignals(deps, workload) };
}

async function decide(
  deps: BrokerDeps,
  subject: string,
  claimTags: Record<string, string>,
  workload: { name: string; issuer: string; owner?: string | undefined },
  task: TaskConfig,
  signalsRead: Promise<Record<string, string>>,
  context: { sourceIp: string; durationSeconds: number; purpose: string },
): Promise<{ decision: DecisionResult; input: DecisionInput }> {
  const nowMs = deps.clock.now();
  // The input last built is the one the answer stands on: the early guess only when the signals read
  // equal it, otherwise the read signals (speculative-decision.ts).
  let input: DecisionInput | undefined;
  const decision = await decideAsSignalsArrive(
    deps.authorizer,
    deps.signalsSeen,
    workload.name,
    (signals) => {
      input = decisionInput({ workload, subject, claimTags, signals, task, context: { ...context, nowMs } });
      return input;
    },
    signalsRead,
  );
  return { decision, input: input! };
}

/** The record is durable before any credential exists; if it cannot be written, nothing is issued. */
async function recordGrant(deps: BrokerDeps, grant: Grant): Promise<Grant> {
  try {
    await deps.store.createGrant(grant, Date.parse(grant.issuedAt) + ISSUING_TIMEOUT_MS);
    return grant;
  } catch (err) {
    throw new DependencyUnavailable("grant store", (err as Error).name);
  }
}

async function issueCredential(
  deps: BrokerDeps,
  provider: CredentialProvider,
  prepared: PreparedCredential,
  grant: Grant,
): Promise<IssuedCredential> {
  try {
    return await provider.issue(prepared, grant);
  } catch (err) {
    const error = asBrokerError(err);
    // A timeout or a 5xx from STS does not say whether AssumeRole succeeded: a session may exist, so the
    // failed grant is revoked like an abandoned one (each provider says when that can be).
    const mayExist = PROVIDER_TRAITS[grant.provider].failedIssueMayLeaveCredential(
      ERROR_RESPONSES[error.code].status,
    );
    const now = deps.clock.now();
    try {
      await deps.store.transition(grant.grantId, "issuing", "failed", {
        reason: `issue failed: ${error.code}`,
        ...(mayExist
          ? { revokedAt: isoSeconds(now), revocationPending: true, dueAtMs: now }
          : { dueAtMs: null }),
      });
    } catch (markErr) {
      // The grant stays issuing; the sweep will fail it (and revoke by tag) after the issuing timeout.
      deps.log.warn("could not mark grant failed", {
        grantId: grant.grantId,
        error: (markErr as Error).name,
      });
    }
    throw error;
  }
}

async function activateGrant(
  deps: BrokerDeps,
  grant: Grant,
  issued: IssuedCredential,
  recheckAtMs?: number,
): Promise<void> {
  try {
    await deps.store.transition(
      grant.grantId,
      "issuing",
      "active",
      {
        expiresAt: isoSeconds(issued.expiresAtMs),
        ...(issued.accessKeyId ? { accessKeyId: issued.accessKeyId } : {}),
        // A grant that time alone can end (an exception's expiry, a time window) is due again at that moment.
        dueAtMs: Math.min(issued.expiresAtMs, recheckAtMs ?? Number.POSITIVE_INFINITY),
      },
      // The response is built from what this request holds; reading the record back would only cost time.
      { record: false },
    );
    grant.status = "active";
    grant.expiresAt = isoSeconds(issued.expiresAtMs);
  } catch (err) {
    // Without an active record the credential is withheld; the sweep revokes the issuing grant.
    if (err instanceof TransitionConflict) {
      // The SDK retries a write whose answer was lost; if the first attempt landed, the grant is already
      // active — and only this request can activate it — so the credential may be handed out.
      const current = await deps.store.getGrant(grant.grantId).catch(() => undefined);
      if (current?.status === "active") {
        grant.status = "active";
        grant.expiresAt = current.expiresAt;
        return;
      }
      throw new DependencyUnavailable("grant store", "grant changed during issuance");
    }
    if (err instanceof BrokerError) throw err;
    throw new DependencyUnavailable("grant store", (err as Error).name);
  }
}

function respond(task: TaskConfig, grant: Grant, issued: IssuedCredential): TokenResponse {
  // The credential's lifetime (RFC 6749 expires_in), counted from issuance so a response that crosses a
  // second boundary still says 300 for a 300-second grant.
  const lifetime = epochSeconds(issued.expiresAtMs) - epochSeconds(Date.parse(grant.issuedAt));
  return {
    access_token: issued.accessToken,
    issued_token_type: issued.issuedTokenType,
    token_type: issued.tokenType,
    expires_in: Math.max(0, Math.min(grant.durationSeconds, lifetime)),
    expires_at: isoSeconds(issued.expiresAtMs),
    scope: task.name,
    grant_id: grant.grantId,
    ...(issued.credentials ? { credentials: issued.credentials } : {}),
    ...issued.response,
  };
}
