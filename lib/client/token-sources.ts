// Where a workload's identity token comes from: a file (a Kubernetes projected service-account token,
// rotated by the kubelet, so it is read afresh every time), an environment variable, or the GitHub
// Actions OIDC runtime. Each source is a function returning the token now.
import { readFile } from "node:fs/promises";
import { TokenSourceError } from "./errors.ts";

export type TokenProvider = () => Promise<string>;

export function fromTokenFile(path: string): TokenProvider {
  return async () => {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "ENOENT")
        throw new TokenSourceError(
          `token file ${path} does not exist (is the service-account token volume mounted?)`,
        );
      if (code === "EACCES") throw new TokenSourceError(`token file ${path} is not readable by this user`);
      throw new TokenSourceError(`cannot read token file ${path} (${code ?? "error"})`);
    }
    const token = text.trim();
    if (token === "") throw new TokenSourceError(`token file ${path} is empty`);
    return token;
  };
}

export function fromTokenEnv(
  name: string,
  env: Record<string, string | undefined> = process.env,
): TokenProvider {
  return async () => {
    const token = env[name]?.trim();
    if (!token) throw new TokenSourceError(`environment variable ${name} is not set or empty`);
    return token;
  };
}

export interface GitHubActionsTokenOptions {
  /** The `aud` the broker expects (its config's `audience`). */
  audience: string;
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

/**
 * The GitHub Actions OIDC token, as `@actions/core`'s getIDToken obtains it: GET the runtime's request URL
 * with `&audience=…` and the request token as a bearer. Needs `permissions: id-token: write` in the job.
 */
export function fromGitHubActions(options: GitHubActionsTokenOptions): TokenProvider {
  return async () => {
    const env = options.env ?? process.env;
    const requestUrl = env["ACTIONS_ID_TOKEN_REQUEST_URL"];
    const requestToken = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"];
    if (!requestUrl || !requestToken)
      throw new TokenSourceError(
        "no GitHub Actions OIDC runtime: ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are unset (does the job have `permissions: id-token: write`?)",
      );
    const url = new URL(requestUrl);
    url.searchParams.set("audience", options.audience);
    let res: Response;
    try {
      res = await (options.fetch ?? fetch)(url, {
        headers: { authorization: `bearer ${requestToken}`, accept: "application/json; api-version=2.0" },
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      throw new TokenSourceError(
        `cannot reach the GitHub Actions OIDC endpoint (${e.cause?.code ?? e.name ?? "network error"})`,
      );
    }
    const body = (await res.json().catch(() => undefined)) as { value?: unknown } | undefined;
    if (!res.ok) throw new TokenSourceError(`the GitHub Actions OIDC endpoint answered HTTP ${res.status}`);
    if (typeof body?.value !== "string" || body.value === "")
      throw new TokenSourceError("the GitHub Actions OIDC endpoint returned no token");
    return body.value;
  };
}

/** The `exp` of a JWT, read without verification: only to explain a refusal, never to trust the token. */
export function unverifiedExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown };
    return typeof claims.exp === "number" ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}
