// STS's request limits, checked before the call so that a request AWS would refuse never reaches it and
// the caller gets a precise invalid_request instead of a vague upstream error.
import { DurationOutOfRange, StsLimitExceeded } from "../../errors.ts";

export const STS_MIN_DURATION_SECONDS = 900;
export const STS_MAX_DURATION_SECONDS = 43_200;
export const MAX_MANAGED_POLICY_ARNS = 10;
export const MAX_SESSION_TAGS = 50;

/** RoleSessionName and SourceIdentity share this pattern. */
export const SESSION_NAME_PATTERN = /^[\w+=,.@-]{2,64}$/;
export const SOURCE_IDENTITY_PATTERN = /^[\w+=,.@-]{2,64}$/;
/** Session tag keys (1-128) and values (0-256): letters, digits, spaces and _ . : / = + - @ */
export const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
export const TAG_VALUE_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{0,256}$/u;

export interface SessionTag {
  Key: string;
  Value: string;
}

export const roleSessionName = (grantId: string): string => `cb-${grantId}`;

export function checkDuration(durationSeconds: number, taskMaxSeconds: number): void {
  const max = Math.min(taskMaxSeconds, STS_MAX_DURATION_SECONDS);
  if (
    !Number.isInteger(durationSeconds) ||
    durationSeconds < STS_MIN_DURATION_SECONDS ||
    durationSeconds > max
  )
    throw new DurationOutOfRange(STS_MIN_DURATION_SECONDS, max);
}

export function checkSessionName(name: string): void {
  if (!SESSION_NAME_PATTERN.test(name))
    throw new StsLimitExceeded("RoleSessionName must be 2-64 characters of [\\w+=,.@-]");
}

export function checkSourceIdentity(value: string): void {
  // STS reserves the aws: prefix.
  if (!SOURCE_IDENTITY_PATTERN.test(value) || /^aws:/i.test(value))
    throw new StsLimitExceeded("SourceIdentity (the workload name) must be 2-64 characters of [\\w+=,.@-]");
}

export function checkTags(tags: readonly SessionTag[], transitiveKeys: readonly string[]): void {
  if (tags.length > MAX_SESSION_TAGS) throw new StsLimitExceeded(`at most ${MAX_SESSION_TAGS} session tags`);
  const keys = new Set<string>();
  for (const tag of tags) {
    if (!TAG_KEY_PATTERN.test(tag.Key) || /^aws:/i.test(tag.Key))
      throw new StsLimitExceeded("session tag keys must be 1-128 allowed characters, not starting with aws:");
    if (!TAG_VALUE_PATTERN.test(tag.Value))
      throw new StsLimitExceeded("session tag values must be 0-256 allowed characters");
    // Tag keys are case-insensitive in STS: two that differ only in case are refused.
    const folded = tag.Key.toLowerCase();
    if (keys.has(folded)) throw new StsLimitExceeded("session tag keys must be unique, ignoring case");
    keys.add(folded);
  }
  for (const key of transitiveKeys)
    if (!keys.has(key.toLowerCase()))
      throw new StsLimitExceeded("transitive tag keys must name session tags");
}

export function checkManagedPolicyArns(arns: readonly string[]): void {
  if (arns.length > MAX_MANAGED_POLICY_ARNS)
    throw new StsLimitExceeded(`at most ${MAX_MANAGED_POLICY_ARNS} managed policy ARNs`);
}

/** The session tag that carries the grant id: revocation lists and the target role's trust policy key on it. */
export const GRANT_TAG = "credbroker-grant";
