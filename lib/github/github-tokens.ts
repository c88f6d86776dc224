// GitHub REST for the github provider, through @octokit/request with each App's apiUrl as baseUrl (so GitHub
// Enterprise Server works the same): the installation lookup (cached per process, per App and owner), one
// POST …/access_tokens per grant, and DELETE /installation/token. Failures become BrokerErrors here:
// GitHub refusing (403, 404, 422) → GitHubRefused; unreachable, 5xx, timeouts and rate limits past the
// retries that fit the request's budget → DependencyUnavailable.
import { request as octokitRequest } from "@octokit/request";
import type { Clock } from "../core/clock.ts";
import { DependencyUnavailable, GitHubRefused } from "../core/errors.ts";
import type { GitHubTokens, InstallationToken } from "../core/providers/github/ports.ts";
import { type RsaSigner, signAppJwt } from "./app-jwt.ts";

export interface GitHubAppEntry {
  appId: string;
  apiUrl: string;
  signer: RsaSigner;
}

export interface GitHubTokensOptions {
  apps: ReadonlyMap<string, GitHubAppEntry>;
  clock: Clock;
  /** The whole of one issue (lookup, retries, the POST) must fit this; default 10 s. */
  budgetMs?: number;
  /** One HTTP request; default 5 s. */
  requestTimeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
}

type Request = typeof octokitRequest;

interface HttpFailure {
  status?: number;
  name?: string;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

const ATTEMPTS = 3;
const API_VERSION = "2022-11-28";

export function createGitHubTokens(options: GitHubTokensOptions): GitHubTokens {
  const { clock } = options;
  const budgetMs = options.budgetMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const clients = new Map<string, Request>();
  const installations = new Map<string, number>();

  const clientFor = (apiUrl: string): Request => {
    let client = clients.get(apiUrl);
    if (!client) {
      client = octokitRequest.defaults({
        baseUrl: apiUrl,
        headers: { "user-agent": "credbroker", "x-github-api-version": API_VERSION },
        ...(options.fetch ? { request: { fetch: options.fetch } } : {}),
      });
      clients.set(apiUrl, client);
    }
    return client;
  };

  const appOf = (name: string): GitHubAppEntry => {
    const app = options.apps.get(name);
    if (!app) throw new DependencyUnavailable("GitHub App", `no githubApps entry named ${name}`);
    return app;
  };

  /**
   * One call, retried while GitHub says try again and the wait fits the deadline. `retryAmbiguous`: whether
   * a 500 or a lost answer may be retried (not for the POST, which may have made a token already).
   * `attempts`: 1 for a DELETE, which the sweep retries instead.
   */
  const call = async (
    apiUrl: string,
    route: string,
    params: Record<string, unknown>,
    deadline: number,
    retryAmbiguous: boolean,
    attempts = ATTEMPTS,
  ): Promise<{ status: number; data: unknown }> => {
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - clock.now();
      if (remaining <= 0) throw new DependencyUnavailable("GitHub", `${route}: out of time`);
      try {
        return await clientFor(apiUrl)(route, {
          ...params,
          request: {
            ...(options.fetch ? { fetch: options.fetch } : {}),
            signal: AbortSignal.timeout(Math.min(requestTimeoutMs, remaining)),
          },
        });
      } catch (err) {
        const failure = err as HttpFailure;
        const status = typeof failure.status === "number" ? failure.status : undefined;
        const headers = failure.response?.headers ?? {};
        // 429, a spent primary limit (403, x-ratelimit-remaining 0), or a secondary limit (403 with Retry-After).
        const rateLimited =
          status === 429 ||
          (status === 403 &&
            (headers["x-ratelimit-remaining"] === "0" || headers["retry-after"] !== undefined));
        // octokit reports a network failure or an abort as status 500 without a response.
        const noAnswer = failure.response === undefined;
        const retryable =
          rateLimited ||
          (status !== undefined && status >= 502 && status <= 504) ||
          ((noAnswer || status === 500) && retryAmbiguous);
        const unavailable = () =>
          new DependencyUnavailable(
            "GitHub",
            `${route}: ${rateLimited ? "rate limited, " : ""}${noAnswer ? (failure.name ?? "no answer") : `HTTP ${status}`}`,
          );
        if (!retryable) {
          if (noAnswer || rateLimited || status === undefined || status >= 500) throw unavailable();
          throw err;
        }
        const wait = retryWaitMs(headers, attempt, clock.now());
        if (attempt >= attempts || clock.now() + wait >= deadline) throw unavailable();
        await sleep(wait);
      }
    }
  };

  const appJwt = async (app: GitHubAppEntry): Promise<string> => {
    try {
      return await signAppJwt(app.signer, app.appId, clock.now());
    } catch (err) {
      throw new DependencyUnavailable("GitHub App key", (err as Error).name);
    }
  };

  /** The installation of the App on `owner`: an organisation first, then a user account. */
  const installationOf = async (
    appName: string,
    app: GitHubAppEntry,
    owner: string,
    jwt: string,
    deadline: number,
  ): Promise<number> => {
    const key = `${appName}\0${owner.toLowerCase()}`;
    const cached = installations.get(key);
    if (cached !== undefined) return cached;
    const headers = { authorization: `bearer ${jwt}` };
    for (const route of ["GET /orgs/{owner}/installation", "GET /users/{owner}/installation"]) {
      try {
        const { data } = await call(app.apiUrl, route, { owner, headers }, deadline, true);
        const id = (data as { id?: unknown }).id;
        if (typeof id !== "number") throw new DependencyUnavailable("GitHub", `${route}: no installation id`);
        installations.set(key, id);
        return id;
      } catch (err) {
        if ((err as HttpFailure).status === 404) continue;
        throw refusalOrUnavailable(err, route);
      }
    }
    throw new GitHubRefused(404, `the App is not installed on ${owner}`);
  };

  return {
    apiUrl: (name) => appOf(name).apiUrl,

    async create(request): Promise<InstallationToken> {
      const deadline = clock.now() + budgetMs;
      const app = appOf(request.app);
      const jwt = await appJwt(app);
      const installation = await installationOf(request.app, app, request.owner, jwt, deadline);
      const route = "POST /app/installations/{installation_id}/access_tokens";
      let data: unknown;
      try {
        ({ data } = await call(
          app.apiUrl,
          route,
          {
            installation_id: installation,
            repositories: request.repositories,
            permissions: request.permissions,
            headers: { authorization: `bearer ${jwt}` },
          },
          deadline,
          false,
        ));
      } catch (err) {
        // The App may have been uninstalled since it was looked up: look again next time.
        if ((err as HttpFailure).status === 404)
          installations.delete(`${request.app}\0${request.owner.toLowerCase()}`);
        throw refusalOrUnavailable(err, route);
      }
      const { token, expires_at } = data as { token?: unknown; expires_at?: unknown };
      const expiresAtMs = typeof expires_at === "string" ? Date.parse(expires_at) : Number.NaN;
      if (typeof token !== "string" || token === "" || !Number.isFinite(expiresAtMs))
        throw new DependencyUnavailable("GitHub", `${route}: the answer holds no token`);
      return { token, expiresAtMs };
    },

    async delete(apiUrl, token) {
      const route = "DELETE /installation/token";
      try {
        await call(
          apiUrl,
          route,
          { headers: { authorization: `token ${token}` } },
          clock.now() + requestTimeoutMs,
          true,
          1,
        );
      } catch (err) {
        // 401: the token is no longer valid (deleted before, or expired): as good as deleted.
        if ((err as HttpFailure).status === 401) return;
        if (err instanceof DependencyUnavailable) throw err;
        throw new DependencyUnavailable("GitHub", `${route}: HTTP ${(err as HttpFailure).status}`);
      }
    },
  };
}

/** 403, 404, 422: GitHub will not make this token (a missing permission, repository or installation). */
function refusalOrUnavailable(err: unknown, route: string): Error {
  if (err instanceof DependencyUnavailable || err instanceof GitHubRefused) return err;
  const failure = err as HttpFailure;
  const status = failure.status;
  if (status === 403 || status === 404 || status === 422) {
    const message = (failure.response?.data as { message?: unknown } | undefined)?.message;
    return new GitHubRefused(status, `${route}: ${typeof message === "string" ? message : `HTTP ${status}`}`);
  }
  // 401: GitHub did not accept the App JWT (a wrong App ID or key): an operator's fix, not the caller's.
  return new DependencyUnavailable("GitHub", `${route}: HTTP ${status ?? failure.name}`);
}

/** Retry-After (seconds), else x-ratelimit-reset (epoch seconds), else a short backoff. */
export function retryWaitMs(
  headers: Record<string, string | undefined>,
  attempt: number,
  nowMs: number,
): number {
  const retryAfter = Number(headers["retry-after"]);
  if (headers["retry-after"] !== undefined && Number.isFinite(retryAfter))
    return Math.max(0, retryAfter * 1000);
  const reset = Number(headers["x-ratelimit-reset"]);
  if (headers["x-ratelimit-reset"] !== undefined && Number.isFinite(reset))
    return Math.max(0, reset * 1000 - nowMs);
  return 200 * 2 ** (attempt - 1);
}
