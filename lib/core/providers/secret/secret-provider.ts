// The secret provider (CONTRACT §15): a static secret from Secrets Manager handed out per decision, and —
// for a rotateAfterUse task — rotated once the grant ends, so that the copy handed out stops being the
// current one. Issue: the grant is recorded, then GetSecretValue (AWSCURRENT), then the version it got is
// written on the issuing grant before the value leaves. Ending: if the version is still AWSCURRENT, one
// rotation is claimed per secret and version in the table and RotateSecret started; the revocation stays
// pending (the sweep looks again) until AWSCURRENT has moved on.
import type { SecretTaskConfig } from "../../../config/secret-schema.ts";
import type { Clock } from "../../clock.ts";
import { isoSeconds } from "../../clock.ts";
import { BrokerError, DependencyUnavailable } from "../../errors.ts";
import type { Grant } from "../../grant.ts";
import { sha256Hex } from "../../ids.ts";
import type { Logger } from "../../logger.ts";
import type { GrantStore } from "../../store.ts";
import {
  type CredentialProvider,
  ISSUED_TOKEN_TYPES,
  type PreparedCredential,
  RevocationUnderway,
} from "../provider.ts";
import {
  type RotationLedger,
  type SecretDescription,
  type SecretsManagerApi,
  SecretsManagerUnavailable,
} from "./ports.ts";
import { secretValue } from "./value.ts";

export interface SecretProviderDeps {
  secrets: SecretsManagerApi;
  /** Rotations in flight; absent in a store that keeps none (then ending a rotateAfterUse grant stays pending). */
  ledger: RotationLedger | undefined;
  /** Where the version handed out goes, on the issuing grant, before the value leaves. */
  store: Pick<GrantStore, "update">;
  clock: Clock;
  log: Logger;
  /** How long a verdict on a task's rotation (DescribeSecret) holds before it is asked again: 60 s. */
  recheckMs?: number;
  /** How soon the sweep looks again at a revocation waiting on a rotation: 30 s. */
  pollMs?: number;
  /**
   * How long a claimed rotation covers the grants of its version: past it (the rotation function failed
   * without saying so, leaving AWSCURRENT where it was) the next end starts a rotation again. 15 min, the
   * longest a rotation Lambda can run.
   */
  staleAfterMs?: number;
}

interface SecretRequest {
  task: string;
  secretArn: string;
  jsonKey?: string;
  env: string;
  rotateAfterUse: boolean;
}

interface Verdict {
  atMs: number;
  rotationEnabled: boolean;
}

export function createSecretProvider(deps: SecretProviderDeps): CredentialProvider {
  const { secrets, clock, log } = deps;
  const recheckMs = deps.recheckMs ?? 60_000;
  const pollMs = deps.pollMs ?? 30_000;
  const staleAfterMs = deps.staleAfterMs ?? 900_000;
  const verdicts = new Map<string, Verdict>();

  async function describe(secretArn: string): Promise<SecretDescription> {
    try {
      return await secrets.describe(secretArn);
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  return {
    prepare({ task, durationSeconds }): PreparedCredential {
      const t = task as SecretTaskConfig;
      const request: SecretRequest = {
        task: t.name,
        secretArn: t.secretArn,
        ...(t.jsonKey !== undefined ? { jsonKey: t.jsonKey } : {}),
        env: t.env,
        rotateAfterUse: t.rotateAfterUse,
      };
      return {
        provider: "secret",
        durationSeconds,
        request,
        grantFields: { secretArn: t.secretArn, ...(t.rotateAfterUse ? { rotateAfterUse: true } : {}) },
      };
    },

    /** A rotateAfterUse task whose secret cannot rotate would hand out copies nothing ever replaces. */
    async ready(prepared) {
      const request = prepared.request as SecretRequest;
      if (!request.rotateAfterUse) return;
      const held = verdicts.get(request.task);
      let verdict = held && clock.now() - held.atMs < recheckMs ? held : undefined;
      if (!verdict) {
        const description = await describe(request.secretArn);
        verdict = { atMs: clock.now(), rotationEnabled: description.rotationEnabled };
        verdicts.set(request.task, verdict);
      }
      if (verdict.rotationEnabled) return;
      log.error("secret task refused: rotateAfterUse, but the secret has no rotation configured", {
        task: request.task,
        secretArn: request.secretArn,
      });
      throw new DependencyUnavailable("AWS Secrets Manager rotation", `not configured for ${request.task}`);
    },

    async issue(prepared, grant) {
      const request = prepared.request as SecretRequest;
      let version: Awaited<ReturnType<SecretsManagerApi["getCurrent"]>>;
      try {
        version = await secrets.getCurrent(request.secretArn);
      } catch (err) {
        const error = asUnavailable(err);
        log.error("secret not read: nothing was handed out", {
          task: request.task,
          grantId: grant.grantId,
          secretArn: request.secretArn,
          detail: error.detail,
        });
        throw error;
      }
      const value = secretValue(version, request.jsonKey);
      if ("problem" in value) {
        log.error("secret refused: nothing was handed out", {
          task: request.task,
          grantId: grant.grantId,
          secretArn: request.secretArn,
          problem: value.problem,
        });
        throw new DependencyUnavailable("AWS Secrets Manager", `secret of ${request.task} unusable`);
      }
      try {
        // Durable before the value leaves: ending the grant must know which version to rotate away from.
        await deps.store.update(grant.grantId, "issuing", { versionId: version.versionId });
      } catch (err) {
        throw new DependencyUnavailable("grant store", (err as Error).name);
      }
      return {
        accessToken: value.value,
        issuedTokenType: ISSUED_TOKEN_TYPES.secret,
        tokenType: "N_A",
        expiresAtMs: Date.parse(grant.expiresAt),
        response: {
          secret: {
            name: version.name,
            versionId: version.versionId,
            env: request.env,
            ...(value.encoding ? { encoding: value.encoding } : {}),
          },
        },
      };
    },

    async revoke(grant: Grant, nowMs: number) {
      // Nothing was handed out (failed, abandoned), or ending it is bookkeeping only: the copy may live on.
      if (!grant.rotateAfterUse || !grant.versionId || !grant.secretArn || grant.status === "failed")
        return undefined;
      let description: SecretDescription;
      try {
        description = await secrets.describe(grant.secretArn);
      } catch (err) {
        // A deleted secret has no AWSCURRENT any more: the version handed out is no longer current.
        if (err instanceof SecretsManagerUnavailable && err.detail === "ResourceNotFoundException") {
          log.warn("secret of an ended grant no longer exists: nothing left to rotate", {
            grantId: grant.grantId,
            secretArn: grant.secretArn,
          });
          return undefined;
        }
        throw asUnavailable(err);
      }
      if (description.currentVersionId !== grant.versionId) return undefined;
      const ledger = deps.ledger;
      if (!ledger) throw new DependencyUnavailable("secret rotation ledger", "not kept by this store");
      const record = {
        secretArn: grant.secretArn,
        fromVersionId: grant.versionId,
        startedAtMs: nowMs,
        token: `cb-${sha256Hex(`${grant.secretArn}\n${grant.versionId}\n${nowMs}`).slice(0, 40)}`,
      };
      // One rotation per secret and version: whoever wins the claim starts it, every other end waits on it.
      if (!(await ledger.claim(record, nowMs - staleAfterMs)))
        throw new RevocationUnderway(nowMs + pollMs, "a rotation of this version is in flight");
      let started: "started" | "in-progress";
      try {
        started = await secrets.rotate(grant.secretArn, record.token);
      } catch (err) {
        await ledger.release(record).catch(() => undefined);
        const error = asUnavailable(err);
        log.warn("secret rotation not started; the sweep retries", {
          grantId: grant.grantId,
          secretArn: grant.secretArn,
          detail: error.detail,
        });
        throw error;
      }
      log.info("secret rotation started after use", {
        grantId: grant.grantId,
        secretArn: grant.secretArn,
        fromVersionId: grant.versionId,
        startedAt: isoSeconds(nowMs),
        ...(started === "in-progress" ? { note: "Secrets Manager had one running already" } : {}),
      });
      throw new RevocationUnderway(nowMs + pollMs, "rotation started; waiting for AWSCURRENT to move");
    },
  };
}

function asUnavailable(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  if (err instanceof SecretsManagerUnavailable)
    return new DependencyUnavailable(`AWS Secrets Manager ${err.operation}`, err.detail);
  return new DependencyUnavailable("AWS Secrets Manager", (err as Error)?.name ?? "unknown");
}
