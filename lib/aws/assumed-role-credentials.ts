// Credentials of a role the broker assumes for its own housekeeping (writing a cross-account task role's
// revocation policy), cached until five minutes before they expire.
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

const REFRESH_MARGIN_MS = 5 * 60_000;

export function assumedRoleCredentials(
  sts: STSClient,
  roleArn: string,
  sessionName = "credbroker-revocations",
): AwsCredentialIdentityProvider {
  let cached: Promise<AwsCredentialIdentity> | undefined;
  const fetchCredentials = async (): Promise<AwsCredentialIdentity> => {
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: sessionName, DurationSeconds: 900 }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration)
      throw new Error(`AssumeRole of ${roleArn} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  };
  return async () => {
    const current = cached ? await cached.catch(() => undefined) : undefined;
    if (!current || (current.expiration?.getTime() ?? 0) - Date.now() < REFRESH_MARGIN_MS) {
      cached = fetchCredentials();
      // A failed AssumeRole is not cached: the next revocation attempt (or sweep) tries again.
      cached.catch(() => {
        cached = undefined;
      });
    }
    return cached!;
  };
}
