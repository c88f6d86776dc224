// What the aws-sts provider needs from AWS, as interfaces the core owns; lib/aws implements them with the
// SDK and translates SDK errors into BrokerErrors there.
import type { RevocationMode } from "../../grant.ts";
import type { RevocationRecheck } from "../provider.ts";
import type { SessionTag } from "./limits.ts";

/** One AssumeRole call, fully rendered and checked against STS limits. Holds no secret. */
export interface AssumeRoleRequest {
  /** The task, named in error descriptions. */
  task: string;
  roleArn: string;
  roleSessionName: string;
  sourceIdentity: string;
  durationSeconds: number;
  /** The minified session policy, when the task has one. */
  policy?: string;
  policyArns: string[];
  tags: SessionTag[];
  transitiveTagKeys: string[];
  externalId?: string;
  /** The STS region for this task; the adapter's default when absent. */
  region?: string;
}

export interface AssumedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expirationMs: number;
}

export interface RoleAssumer {
  /** Throws UpstreamRejectedPolicy or DependencyUnavailable; never a raw SDK error. */
  assumeRole(request: AssumeRoleRequest): Promise<AssumedCredentials>;
}

export type { RevocationRecheck };

export interface RevocationWriter {
  /** Denies the grant's sessions on the role (credbroker-revocations); resolves once IAM holds it. */
  revoke(roleArn: string, grantId: string, nowMs: number): Promise<RevocationMode>;
  /**
   * Reads the role's policy again a while after a revocation was applied: another process's
   * read-modify-write may have dropped it after our own check (IAM has no conditional write). Writes it
   * again, as of `revokedAtMs`, only when neither the grant's id nor an issue-time deny covers it.
   */
  recheck(roleArn: string, grantId: string, revokedAtMs: number): Promise<RevocationRecheck>;
  /** Takes an expired grant's id off the role's list (and stale issue-time denies); deletes an empty policy. */
  prune(roleArn: string, grantId: string, nowMs: number): Promise<void>;
}
