// The normalised model of one account's IAM (and Secrets Manager) that the analysis works on. Policy documents are judged as
// they arrive and only the findings are kept, so a 5,000-role account holds a few strings per principal,
// not its documents.

import type { SecretFacts, SecretStatement } from "./secrets.ts";

/** One of a user's two access keys, as the credential report gives it. */
export interface KeyFacts {
  key: "access_key_1" | "access_key_2";
  active: boolean;
  /** ISO time, or undefined for N/A (never used) and no_information. */
  lastUsed?: string;
  lastRotated?: string;
}

/** One row of the credential report; the root account's row has `root: true`. */
export interface CredentialRow {
  user: string;
  arn: string;
  root: boolean;
  createdAt?: string;
  passwordEnabled: boolean;
  passwordLastUsed?: string;
  keys: KeyFacts[];
}

export type PrincipalKind = "user" | "role" | "group";

/** A user, role or group with what its own documents say; references to groups and policies resolved later. */
export interface PrincipalFacts {
  kind: PrincipalKind;
  arn: string;
  name: string;
  path: string;
  createdAt?: string;
  /** Tags whose key is one of ownerTagKeys, as `key=value`. */
  ownerTags: string[];
  /** Why its inline policies make it privileged (empty when they do not). */
  inlineFindings: string[];
  /** ARNs of the managed policies attached to it. */
  attached: string[];
  /** A user's groups, by name. */
  groups: string[];
  /** A role's trust policy: who may assume it. */
  trustedBy: TrustedPrincipal[];
  /** A role's RoleLastUsed.LastUsedDate. */
  lastUsed?: string;
  /** Its own policies' statements that may allow or deny reading secrets (CONTRACT §15). */
  secretStatements?: SecretStatement[];
}

/** A principal a trust policy lets assume a role: its identifier, and the `why` text naming it. */
export interface TrustedPrincipal {
  /** For AWS principals the ARN (an account id becomes its root ARN); otherwise the value as written. */
  id: string;
  type: "AWS" | "Federated" | "Service" | "CanonicalUser" | "*" | "NotPrincipal";
  label: string;
}

export interface ManagedPolicyFacts {
  arn: string;
  name: string;
  /** Why its default version makes a holder privileged. */
  findings: string[];
  /** Its default version's statements that may allow or deny reading secrets. */
  secretStatements?: SecretStatement[];
}

/** Everything one sync read of one account. */
export interface AccountFacts {
  accountId: string;
  /** The credential report's GeneratedTime, when known. */
  generatedTime?: string;
  principals: PrincipalFacts[];
  policies: Map<string, ManagedPolicyFacts>;
  credentialRows: Map<string, CredentialRow>;
  /** The account's Secrets Manager secrets; undefined when they were not read. */
  secrets?: SecretFacts[];
}
