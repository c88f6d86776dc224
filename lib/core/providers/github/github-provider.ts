// The github provider (CONTRACT §8.1): prepare renders and checks the repositories before the grant is
// recorded; issue creates one installation token for the grant and keeps it only as ciphertext on the
// grant before handing it out; revoke decrypts it and deletes it at GitHub. Ending a grant ends the token.
import type { GithubTaskConfig } from "../../../config/schema.ts";
import { DependencyUnavailable, GitHubRefused } from "../../errors.ts";
import type { Grant } from "../../grant.ts";
import { sha256Hex } from "../../ids.ts";
import type { Logger } from "../../logger.ts";
import type { GrantStore } from "../../store.ts";
import { type CredentialProvider, ISSUED_TOKEN_TYPES, type PreparedCredential } from "../provider.ts";
import type { GitHubTokens, InstallationTokenRequest, TokenVault } from "./ports.ts";
import { renderRepositories } from "./repositories.ts";

export interface GithubProviderDeps {
  tokens: GitHubTokens;
  vault: TokenVault;
  /** Where the sealed token goes, on the `issuing` grant, before the token is handed out. */
  store: Pick<GrantStore, "update">;
  log: Logger;
}

/** What the vault keeps: the token and where to delete it, so no config is needed to end it. */
interface Sealed {
  apiUrl: string;
  token: string;
}

export function createGithubProvider(deps: GithubProviderDeps): CredentialProvider {
  return {
    prepare({ task, workload, grantId, claims, durationSeconds }): PreparedCredential {
      const t = task as GithubTaskConfig;
      const permissions = Object.fromEntries(
        Object.entries(t.permissions).filter((e): e is [string, string] => e[1] !== undefined),
      );
      const request: InstallationTokenRequest = {
        app: t.app,
        owner: t.owner,
        repositories: renderRepositories(t.repositories, t.owner, { workload, grantId, claims }),
        permissions,
      };
      return { provider: "github", durationSeconds, request };
    },

    async issue(prepared, grant) {
      const request = prepared.request as InstallationTokenRequest;
      let created: Awaited<ReturnType<GitHubTokens["create"]>>;
      try {
        created = await deps.tokens.create(request);
      } catch (err) {
        // GitHub's own words say which permission or repository the App lacks: for operators, not callers.
        if (err instanceof GitHubRefused)
          deps.log.error("GitHub refused an installation token", {
            grantId: grant.grantId,
            task: grant.task,
            owner: request.owner,
            detail: err.detail,
          });
        throw err;
      }
      const apiUrl = deps.tokens.apiUrl(request.app);
      const discard = () => deps.tokens.delete(apiUrl, created.token);
      try {
        // Durable before the token leaves: if this process dies now, the sweep finds and deletes it.
        const sealed: Sealed = { apiUrl, token: created.token };
        const tokenCiphertext = await deps.vault.seal(grant.grantId, JSON.stringify(sealed));
        await deps.store.update(grant.grantId, "issuing", {
          tokenCiphertext,
          tokenSha256: sha256Hex(created.token),
        });
      } catch (err) {
        await discard().catch(() => {
          deps.log.error("an installation token that could not be kept could not be deleted either", {
            grantId: grant.grantId,
            tokenSha256: sha256Hex(created.token),
          });
        });
        throw new DependencyUnavailable("token vault", (err as Error).name);
      }
      return {
        accessToken: created.token,
        issuedTokenType: ISSUED_TOKEN_TYPES.github,
        tokenType: "Bearer",
        // The earlier of the grant's end and GitHub's: the token is deleted at the grant's end anyway.
        expiresAtMs: Math.min(Date.parse(grant.expiresAt), created.expiresAtMs),
        response: { github: { repositories: request.repositories, permissions: request.permissions } },
        discard,
      };
    },

    async revoke(grant: Grant) {
      // Nothing kept: no token was handed out, or it was deleted already.
      if (!grant.tokenCiphertext) return undefined;
      const sealed = JSON.parse(await deps.vault.open(grant.grantId, grant.tokenCiphertext)) as Sealed;
      await deps.tokens.delete(sealed.apiUrl, sealed.token);
      return undefined;
    },
  };
}
