// What each credential kind needs when its grant ends. Read by the token path, revocation and the sweep
// from the grant's provider name alone, since an admin CLI or a sweep may have no such provider configured.
import type { Grant, Provider } from "../grant.ts";
import { STALE_SLACK_MS } from "./aws-sts/revocation-policy.ts";

export interface ProviderTraits {
  /** Ending a grant needs work outside the broker (an IAM deny, a token DELETE, a DROP ROLE). */
  endsOutside: boolean;
  /**
   * The credential outlives its grant (a GitHub token lives an hour, a PostgreSQL session outlives its
   * password), so expiry must actively end it too (CONTRACT §8): the sweep revokes at expiry.
   */
  endsAtExpiry: boolean;
  /** Whether a failed issue, answered with this HTTP status, may still have left a credential behind. */
  failedIssueMayLeaveCredential(status: number): boolean;
  /**
   * When nothing of an ended grant's credential can be left, whatever became of its revocation: until then
   * a pending revocation is retried; after it the sweep stops retrying (and prunes what it kept).
   */
  credentialGoneAtMs(grant: Grant): number;
  /** What a revocation of this kind still has to do while it is pending, as people are told it. */
  pendingRevocation: string;
}

/** GitHub installation tokens live one hour from creation. */
const GITHUB_TOKEN_LIFETIME_MS = 3_600_000;

/** An ended grant's expiry plus a margin, since a session may outlive the recorded expiry a little. */
const afterExpiry = (grant: Grant): number => Date.parse(grant.expiresAt) + STALE_SLACK_MS;

export const PROVIDER_TRAITS: Record<Provider, ProviderTraits> = {
  "aws-sts": {
    endsOutside: true,
    endsAtExpiry: false,
    // A timeout or a 5xx from STS does not say whether AssumeRole succeeded; a 4xx means no session.
    failedIssueMayLeaveCredential: (status) => status >= 500,
    credentialGoneAtMs: afterExpiry,
    pendingRevocation: "the IAM revocation is pending; the sweep will retry it",
  },
  jwt: {
    endsOutside: false,
    endsAtExpiry: false,
    failedIssueMayLeaveCredential: () => false,
    credentialGoneAtMs: afterExpiry,
    pendingRevocation: "the revocation is pending; the sweep will retry it",
  },
  github: {
    endsOutside: true,
    endsAtExpiry: true,
    // The provider deletes a token it got but could not hand out; one it never got cannot be deleted.
    failedIssueMayLeaveCredential: () => false,
    // GitHub ends an installation token an hour after it made it, whatever became of its revocation.
    credentialGoneAtMs: (grant) =>
      grant.revocationPending ? Date.parse(grant.issuedAt) + GITHUB_TOKEN_LIFETIME_MS + STALE_SLACK_MS : 0,
    pendingRevocation:
      "deleting its GitHub token is pending; the sweep deletes it (only the sweep and revoke functions may decrypt it)",
  },
  postgres: {
    endsOutside: true,
    endsAtExpiry: true,
    // A role may have been created before the connection or a later statement failed.
    failedIssueMayLeaveCredential: () => true,
    // A role and its sessions never end by themselves: a pending drop is retried until it is done.
    credentialGoneAtMs: (grant) => (grant.revocationPending ? Number.POSITIVE_INFINITY : 0),
    pendingRevocation: "dropping its PostgreSQL role is pending; the sweep will retry it",
  },
  secret: {
    // A rotateAfterUse grant's end rotates the secret; for the others `revoke` is bookkeeping only.
    endsOutside: true,
    // A copy of a static secret never lapses: expiry ends it like any other end (rotates it).
    endsAtExpiry: true,
    // The value leaves only once the grant is active: a failed issue handed nothing out.
    failedIssueMayLeaveCredential: () => false,
    // The handed-out version stays valid until a rotation replaces it: a pending rotation is retried for good.
    credentialGoneAtMs: (grant) => (grant.revocationPending ? Number.POSITIVE_INFINITY : 0),
    pendingRevocation:
      "the secret's rotation is under way or pending; the sweep marks it done once the version handed out is no longer current",
  },
};
