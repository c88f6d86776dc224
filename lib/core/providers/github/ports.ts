// What the github provider needs from outside, as interfaces the core owns: lib/github implements the
// GitHub REST calls (and translates their failures into BrokerErrors there); lib/aws and lib/local the vault.

/** One installation token, rendered and checked: exactly what is sent to GitHub. Holds no secret. */
export interface InstallationTokenRequest {
  /** The githubApps entry that signs the App JWT. */
  app: string;
  owner: string;
  /** Names without the owner. */
  repositories: string[];
  permissions: Record<string, string>;
}

export interface InstallationToken {
  token: string;
  expiresAtMs: number;
}

export interface GitHubTokens {
  /**
   * Finds the owner's installation and creates one token (POST …/access_tokens) for exactly this request:
   * never cached or shared. Throws GitHubRefused (403/404/422) or DependencyUnavailable.
   */
  create(request: InstallationTokenRequest): Promise<InstallationToken>;
  /** DELETE /installation/token; resolves once GitHub answered 204 or 401, throws otherwise. */
  delete(apiUrl: string, token: string): Promise<void>;
  /** The API URL of a configured App (kept with the token so it can be deleted after the App is gone). */
  apiUrl(app: string): string;
}

/** Keeps a token only as ciphertext bound to its grant id (KMS encryption context credbroker-grant). */
export interface TokenVault {
  seal(grantId: string, plaintext: string): Promise<string>;
  /** Throws when this process may not decrypt (an admin CLI, the token function) or the context differs. */
  open(grantId: string, ciphertext: string): Promise<string>;
}
