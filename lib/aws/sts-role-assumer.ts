// RoleAssumer over the SDK's STSClient: one AssumeRole per grant. SDK errors become BrokerErrors here, each
// with a fixed description an operator can act on; the SDK's own code goes to server logs as the detail.
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from "@aws-sdk/client-sts";
import { DependencyUnavailable, UpstreamRejectedPolicy } from "../core/errors.ts";
import type { AssumedCredentials, AssumeRoleRequest, RoleAssumer } from "../core/providers/aws-sts/ports.ts";

/** The STS client for a task's region (undefined: the broker's default region). */
export type StsClientFor = (region: string | undefined) => STSClient;

const POLICY_REJECTED = new Set([
  "MalformedPolicyDocument",
  "MalformedPolicyDocumentException",
  "PackedPolicyTooLarge",
  "PackedPolicyTooLargeException",
]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException"]);
const REGION_DISABLED = new Set(["RegionDisabled", "RegionDisabledException"]);
const BROKER_CREDENTIALS = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "UnrecognizedClientException",
  "CredentialsProviderError",
  "IncompleteSignature",
  "MissingAuthenticationToken",
]);
const THROTTLED = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
]);

export function createStsRoleAssumer(clientFor: StsClientFor): RoleAssumer {
  return {
    async assumeRole(request: AssumeRoleRequest): Promise<AssumedCredentials> {
      let out: AssumeRoleCommandOutput;
      try {
        // The SDK's standard retry strategy backs off and retries throttling and transient errors first.
        out = await clientFor(request.region).send(
          new AssumeRoleCommand({
            RoleArn: request.roleArn,
            RoleSessionName: request.roleSessionName,
            SourceIdentity: request.sourceIdentity,
            DurationSeconds: request.durationSeconds,
            ...(request.policy !== undefined ? { Policy: request.policy } : {}),
            ...(request.policyArns.length > 0
              ? { PolicyArns: request.policyArns.map((arn) => ({ arn })) }
              : {}),
            Tags: request.tags,
            TransitiveTagKeys: request.transitiveTagKeys,
            ...(request.externalId !== undefined ? { ExternalId: request.externalId } : {}),
          }),
        );
      } catch (err) {
        throw translateStsError(request.task, err);
      }
      const c = out.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date))
        throw new DependencyUnavailable("AWS STS", "AssumeRole answered without complete credentials");
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.SessionToken,
        expirationMs: c.Expiration.getTime(),
      };
    },
  };
}

export function translateStsError(task: string, err: unknown): Error {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  const code = e.Code ?? e.name ?? "Unknown";
  const detail = `${code}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ""}`;
  if (POLICY_REJECTED.has(code)) return new UpstreamRejectedPolicy(task, detail);
  if (DENIED.has(code))
    return new DependencyUnavailable(
      `AWS STS denied AssumeRole for task ${task}: the role's trust policy must allow the broker's role sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity`,
      detail,
    );
  if (REGION_DISABLED.has(code))
    return new DependencyUnavailable(
      `AWS STS is not activated in the region of task ${task}: activate it in the account's IAM settings or set the task's region`,
      detail,
    );
  // The SDK found no credentials at all: nothing was sent to STS, so STS refused nothing.
  if (code === "CredentialsProviderError")
    return new DependencyUnavailable(
      "the broker has no AWS credentials: set AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run it with a role",
      detail,
    );
  if (BROKER_CREDENTIALS.has(code))
    return new DependencyUnavailable(
      "AWS STS refused the broker's own AWS credentials: check the broker's role or credentials",
      detail,
    );
  if (code === "ValidationError")
    return new DependencyUnavailable(
      `AWS STS refused the AssumeRole parameters for task ${task}: check that the role's maximum session duration covers the task's maxDurationSeconds`,
      detail,
    );
  if (THROTTLED.has(code))
    return new DependencyUnavailable("AWS STS is throttling AssumeRole: retry later", detail);
  return new DependencyUnavailable("AWS STS", detail);
}
