// The aws-sts provider (CONTRACT §2, §4, §6): prepare renders the session policy and checks every STS
// limit before the grant is recorded; issue calls AssumeRole with the grant's session name, source
// identity and tags; revoke and prune keep the role's credbroker-revocations policy.
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
  roleSessionName,
  type SessionTag,
} from "./limits.ts";
import type { AssumeRoleRequest, RevocationWriter, RoleAssumer } from "./ports.ts";
import { renderSessionPolicy } from "./session-policy.ts";

export const GRANT_TAG = "credbroker-grant";
export const WORKLOAD_TAG = "credbroker-workload";
export const TASK_TAG = "credbroker-task";

export interface AwsStsProviderDeps {
  assumer: RoleAssumer;
  revocations: RevocationWriter;
  /** The configured aws-sts tasks, to find a role for a grant recorded without one. */
  tasks: ReadonlyMap<string, AwsStsTaskConfig>;
}

export type AwsStsProvider = CredentialProvider & { prune(grant: Grant, nowMs: number): Promise<void> };

export function createAwsStsProvider(deps: AwsStsProviderDeps): AwsStsProvider {
  const roleOf = (grant: Grant): string => {
    const roleArn = grant.roleArn ?? deps.tasks.get(grant.task)?.roleArn;
    if (!roleArn)
      throw new DependencyUnavailable("the role of the grant's task", `grant ${grant.grantId} has no role`);
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
      return deps.revocations.revoke(roleOf(grant), grant.grantId, nowMs);
    },

    async prune(grant, nowMs) {
      return deps.revocations.prune(roleOf(grant), grant.grantId, nowMs);
    },
  };
}
