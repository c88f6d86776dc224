// The aws-sts provider (CONTRACT §2, §4, §6): prepare renders the session policy and checks every STS
// limit before the grant is recorded; issue calls AssumeRole with the grant's session name, source
// identity and tags; revoke, recheck and prune keep the role's credbroker-revocations policy.
import type { AwsStsTaskConfig } from "../../../config/schema.ts";
import { isoSeconds } from "../../clock.ts";
import { DependencyUnavailable } from "../../errors.ts";
import type { Grant } from "../../grant.ts";
import { type CredentialProvider, ISSUED_TOKEN_TYPES, type PreparedCredential } from "../provider.ts";
import {
  checkDuration,
  checkManagedPolicyArns,
  checkSessionName,
  checkSourceIdentity,
  checkTags,
  GRANT_TAG,
  roleSessionName,
  type SessionTag,
} from "./limits.ts";
import type { AssumeRoleRequest, RevocationRecheck, RevocationWriter, RoleAssumer } from "./ports.ts";
import { checkRevocationReach, RevocationRoleOutOfReach } from "./role-reach.ts";
import { renderSessionPolicy } from "./session-policy.ts";

export const WORKLOAD_TAG = "credbroker-workload";
export const TASK_TAG = "credbroker-task";

export interface AwsStsProviderDeps {
  assumer: RoleAssumer;
  revocations: RevocationWriter;
  /** The configured aws-sts tasks, to find a role for a grant recorded without one. */
  tasks: ReadonlyMap<string, AwsStsTaskConfig>;
  /**
   * The account the broker's own IAM client writes in (learned once per process). A role elsewhere without
   * a writer role is refused rather than written by name in the wrong account. No check when absent.
   */
  ownAccount?: () => Promise<string>;
}

export type AwsStsProvider = CredentialProvider & {
  prune(grant: Grant, nowMs: number): Promise<void>;
  recheckRevocation(grant: Grant, nowMs: number): Promise<RevocationRecheck>;
};

export function createAwsStsProvider(deps: AwsStsProviderDeps): AwsStsProvider {
  const roleOf = (grant: Grant): string => {
    const roleArn = grant.roleArn ?? deps.tasks.get(grant.task)?.roleArn;
    if (!roleArn)
      throw new DependencyUnavailable("the role of the grant's task", `grant ${grant.grantId} has no role`);
    return roleArn;
  };
  /** The grant's role, once it is known the broker writes that role's revocations in the right account. */
  const reachableRoleOf = async (grant: Grant): Promise<string> => {
    const roleArn = roleOf(grant);
    const hasWriter = [...deps.tasks.values()].some((t) => t.roleArn === roleArn && t.revocationRoleArn);
    await checkRevocationReach(roleArn, hasWriter, deps.ownAccount);
    return roleArn;
  };

  return {
    prepare({ task, workload, grantId, claims, durationSeconds }): PreparedCredential {
      const t = task as AwsStsTaskConfig;
      checkDuration(durationSeconds, t.maxDurationSeconds);
      const sessionName = roleSessionName(grantId);
      checkSessionName(sessionName);
      checkSourceIdentity(workload);
      const tags: SessionTag[] = [
        { Key: GRANT_TAG, Value: grantId },
        { Key: WORKLOAD_TAG, Value: workload },
        { Key: TASK_TAG, Value: t.name },
      ];
      const transitiveTagKeys = [GRANT_TAG];
      checkTags(tags, transitiveTagKeys);
      checkManagedPolicyArns(t.managedPolicyArns);
      const request: AssumeRoleRequest = {
        task: t.name,
        roleArn: t.roleArn,
        roleSessionName: sessionName,
        sourceIdentity: workload,
        durationSeconds,
        ...(t.sessionPolicy
          ? { policy: renderSessionPolicy(t.name, t.sessionPolicy, { workload, grantId, claims }) }
          : {}),
        policyArns: [...t.managedPolicyArns],
        tags,
        transitiveTagKeys,
        ...(t.externalId !== undefined ? { externalId: t.externalId } : {}),
        ...(t.region !== undefined ? { region: t.region } : {}),
      };
      return { provider: "aws-sts", durationSeconds, roleArn: t.roleArn, request };
    },

    async issue(prepared) {
      const credentials = await deps.assumer.assumeRole(prepared.request as AssumeRoleRequest);
      const expiration = isoSeconds(credentials.expirationMs);
      return {
        accessToken: credentials.sessionToken,
        issuedTokenType: ISSUED_TOKEN_TYPES["aws-sts"],
        tokenType: "N_A",
        expiresAtMs: credentials.expirationMs,
        accessKeyId: credentials.accessKeyId,
        credentials: {
          AccessKeyId: credentials.accessKeyId,
          SecretAccessKey: credentials.secretAccessKey,
          SessionToken: credentials.sessionToken,
          Expiration: expiration,
        },
      };
    },

    async revoke(grant, nowMs) {
      return deps.revocations.revoke(await reachableRoleOf(grant), grant.grantId, nowMs);
    },

    async recheckRevocation(grant, nowMs) {
      // As of the revocation, so a list that has to fall back denies no session issued since.
      const revokedAtMs = grant.revokedAt ? Date.parse(grant.revokedAt) : nowMs;
      return deps.revocations.recheck(await reachableRoleOf(grant), grant.grantId, revokedAtMs);
    },

    async prune(grant, nowMs) {
      let roleArn: string;
      try {
        roleArn = await reachableRoleOf(grant);
      } catch (err) {
        // Never written there by this broker, so nothing of the grant's is listed to take off.
        if (err instanceof RevocationRoleOutOfReach) return;
        throw err;
      }
      return deps.revocations.prune(roleArn, grant.grantId, nowMs);
    },
  };
}
