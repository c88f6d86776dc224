// A small typed client for the broker's HTTP API (CONTRACT §4). No npm dependencies and only erasable
// TypeScript, so the GitHub Action runs it straight from source under Node 24, and any Node ≥ 20 can use it.
import { BrokerRequestError, BrokerResponseInvalid, BrokerUnreachable } from "./errors.ts";

/** The audience subject tokens are requested for when neither the caller nor the broker names one. */
export const DEFAULT_AUDIENCE = "credbroker";

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";
export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const AWS_CREDENTIALS_TOKEN_TYPE = "urn:credbroker:token-type:aws-credentials";
export const GITHUB_TOKEN_TYPE = "urn:credbroker:token-type:github-token";
export const POSTGRES_CREDENTIALS_TOKEN_TYPE = "urn:credbroker:token-type:postgres-credentials";
export const SECRET_TOKEN_TYPE = "urn:credbroker:token-type:secret";

/** A secret task's answer beside the value (CONTRACT §15): which secret, which version, which variable. */
export interface SecretInfo {
  name: string;
  versionId: string;
  env: string;
  /** "base64" for a binary secret. */
  encoding?: string;
}

/** A postgres task's user (CONTRACT §8.2); postgresEnvironment() turns it into libpq variables. */
export interface PostgresCredentials {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** libpq's sslmode: verify-full, require or disable. */
  sslmode: string;
}

export interface AwsSessionCredentials {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  /** RFC 3339. */
  Expiration: string;
}

/** The `POST /token` answer. `credentials` is present for aws-sts tasks, absent for jwt tasks. */
export interface ExchangeResponse {
  access_token: string;
  issued_token_type: string;
  token_type: string;
  expires_in: number;
  expires_at: string;
  scope: string;
  grant_id: string;
  credentials?: AwsSessionCredentials;
  postgres?: PostgresCredentials;
  /** github tasks: the repositories (names without the owner) and permissions of the installation token. */
  github?: { repositories: string[]; permissions: Record<string, string> };
  /** secret tasks: the value is access_token. */
  secret?: SecretInfo;
}

export interface ExchangeRequest {
  /** The workload's identity token (OIDC JWT). */
  subjectToken: string;
  /** The task name; the broker's `scope`. */
  task: string;
  durationSeconds?: number;
  purpose?: string;
  subjectTokenType?: string;
  /** Ask for a credential type; the broker refuses (issuing nothing) when the task's provider differs. */
  requestedTokenType?: string;
  /** A poll for a request waiting for approval (CONTRACT §10): the `approval_id` the broker answered. */
  approvalId?: string;
}

/** A request waiting for people (`GET /approvals` items, `GET /approvals/{id}`). */
export interface ApprovalSummary {
  approvalId: string;
  workload: string;
  task: string;
  purpose: string;
  requestedAt: string;
  expiresAt: string;
  approvals: number;
  needed: number;
  status?: string;
  mayApprove?: boolean;
  [field: string]: unknown;
}

/** The answer to `POST /approvals/{id}`. */
export interface ApprovalDecisionResponse {
  approvalId: string;
  status: "pending" | "approved" | "denied" | "expired";
  approvals: number;
  needed: number;
}

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      sub: string;
      aud: string | string[];
      scope: string;
      exp: number;
      iat: number;
      iss: string;
      jti: string;
      client_id: string;
    };

export interface BrokerClientOptions {
  /** The broker's base URL, e.g. https://broker.example.com. http is accepted for loopback only. */
  url: string;
  /** Per-request timeout; default 10 s. */
  timeoutMs?: number;
  /** For tests and unusual runtimes; default the global fetch. */
  fetch?: typeof fetch;
}

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]"]);

export class BrokerClient {
  readonly url: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: BrokerClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.url);
    } catch {
      throw new TypeError(`broker url ${JSON.stringify(options.url)} is not a URL`);
    }
    // The subject token is a bearer credential: never send it in the clear beyond this machine.
    const loopback = LOOPBACK.has(parsed.hostname) || parsed.hostname.startsWith("127.");
    if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback))
      throw new TypeError(
        `broker url must be https (http only on loopback), got ${parsed.protocol}//${parsed.host}`,
      );
    if (parsed.username || parsed.password) throw new TypeError("broker url must not carry credentials");
    this.url = parsed.href.replace(/\/+$/, "");
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** RFC 8693 token exchange: an identity token in, a credential for one task out. */
  async exchange(request: ExchangeRequest): Promise<ExchangeResponse> {
    const form: Record<string, string> = {
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: request.subjectToken,
      subject_token_type: request.subjectTokenType ?? JWT_TOKEN_TYPE,
      scope: request.task,
    };
    if (request.durationSeconds !== undefined) form["duration_seconds"] = String(request.durationSeconds);
    if (request.purpose !== undefined && request.purpose !== "") form["purpose"] = request.purpose;
    if (request.requestedTokenType !== undefined) form["requested_token_type"] = request.requestedTokenType;
    if (request.approvalId !== undefined) form["approval_id"] = request.approvalId;
    return parseExchange(await this.#post("/token", form));
  }

  /**
   * RFC 7009 self-release: ends the grant behind `token` (a grant id or a broker-issued jwt). The broker
   * answers 200 whether or not it knew the token, so this resolves unless the request itself failed.
   */
  async release(input: { token: string; subjectToken: string; subjectTokenType?: string }): Promise<void> {
    await this.#post("/revoke", {
      token: input.token,
      subject_token: input.subjectToken,
      subject_token_type: input.subjectTokenType ?? JWT_TOKEN_TYPE,
    });
  }

  /** RFC 7662: whether a broker-issued jwt is still active. */
  async introspect(token: string): Promise<IntrospectionResponse> {
    const body = await this.#post("/introspect", { token });
    if (typeof body["active"] !== "boolean")
      throw new BrokerResponseInvalid("the broker's introspection answer has no active flag");
    return body as unknown as IntrospectionResponse;
  }

  /** RFC 8414 metadata (endpoints, issuer). */
  async metadata(): Promise<Record<string, unknown>> {
    return this.#send("/.well-known/oauth-authorization-server", { method: "GET" });
  }

  /**
   * The `aud` the broker expects on subject tokens, as its metadata publishes it (`credbroker_audience`);
   * `credbroker` when the broker does not say or cannot be asked.
   */
  async audience(): Promise<string> {
    try {
      const audience = (await this.metadata())["credbroker_audience"];
      return typeof audience === "string" && audience !== "" ? audience : DEFAULT_AUDIENCE;
    } catch {
      return DEFAULT_AUDIENCE;
    }
  }

  /** Pending approval requests, as an approver (`Authorization: Bearer <approver token>`). */
  async listApprovals(approverToken: string): Promise<ApprovalSummary[]> {
    const body = await this.#send("/approvals", { method: "GET", headers: bearer(approverToken) });
    if (!Array.isArray(body["approvals"]))
      throw new BrokerResponseInvalid("the broker's approvals answer has no list");
    return body["approvals"] as ApprovalSummary[];
  }

  async showApproval(approvalId: string, approverToken: string): Promise<ApprovalSummary> {
    const path = `/approvals/${encodeURIComponent(approvalId)}`;
    return (await this.#send(path, { method: "GET", headers: bearer(approverToken) })) as ApprovalSummary;
  }

  /** Approves or denies one request; the answer says where it stands (approvals so far, needed). */
  async decideApproval(input: {
    approvalId: string;
    decision: "approve" | "deny";
    reason?: string;
    approverToken: string;
  }): Promise<ApprovalDecisionResponse> {
    const form: Record<string, string> = { decision: input.decision };
    if (input.reason !== undefined && input.reason !== "") form["reason"] = input.reason;
    return (await this.#post(
      `/approvals/${encodeURIComponent(input.approvalId)}`,
      form,
      bearer(input.approverToken),
    )) as unknown as ApprovalDecisionResponse;
  }

  async #post(
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<Record<string, unknown>> {
    return this.#send(path, {
      method: "POST",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        accept: "application/json",
        ...headers,
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  async #send(path: string, init: RequestInit): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      // No redirects: a 307 would replay the subject token to wherever the Location points.
      res = await this.#fetch(`${this.url}${path}`, {
        ...init,
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      throw new BrokerUnreachable(this.url, networkReason(err, this.#timeoutMs));
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new BrokerUnreachable(this.url, `redirected with HTTP ${res.status}; use the broker's final URL`);
    }
    let body: unknown;
    const text = await res.text().catch(() => "");
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const json =
      body && typeof body === "object" && !Array.isArray(body)
        ? (body as Record<string, unknown>)
        : undefined;
    if (!res.ok) {
      const error = typeof json?.["error"] === "string" ? json["error"] : `http_${res.status}`;
      const description =
        typeof json?.["error_description"] === "string" ? json["error_description"] : undefined;
      const decisionId = typeof json?.["decision_id"] === "string" ? json["decision_id"] : undefined;
      throw new BrokerRequestError(res.status, error, description, decisionId, json ?? {});
    }
    if (!json)
      throw new BrokerResponseInvalid(`the broker at ${this.url}${path} did not answer with a JSON object`);
    return json;
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}`, accept: "application/json" });

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string; message?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause;
  if (cause?.code) return cause.code;
  if (cause?.message) return cause.message;
  return e?.name ?? "network error";
}

const isString = (v: unknown): v is string => typeof v === "string" && v !== "";

function parseExchange(body: Record<string, unknown>): ExchangeResponse {
  for (const key of ["access_token", "issued_token_type", "token_type", "expires_at", "scope", "grant_id"])
    if (!isString(body[key])) throw new BrokerResponseInvalid(`the broker's token answer lacks ${key}`);
  if (typeof body["expires_in"] !== "number")
    throw new BrokerResponseInvalid("the broker's token answer lacks expires_in");
  const credentials = body["credentials"];
  if (credentials !== undefined) {
    const c = credentials as Record<string, unknown>;
    for (const key of ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"])
      if (!isString(c?.[key])) throw new BrokerResponseInvalid(`the broker's AWS credentials lack ${key}`);
    if (Number.isNaN(Date.parse(c["Expiration"] as string)))
      throw new BrokerResponseInvalid("the broker's AWS credentials have no valid Expiration");
  }
  const postgres = body["postgres"] as Record<string, unknown> | undefined;
  if (postgres !== undefined) {
    for (const key of ["host", "database", "username", "password", "sslmode"])
      if (!isString(postgres?.[key]))
        throw new BrokerResponseInvalid(`the broker's postgres answer lacks ${key}`);
    if (!Number.isInteger(postgres["port"]))
      throw new BrokerResponseInvalid("the broker's postgres answer lacks port");
  }
  const secret = body["secret"] as Record<string, unknown> | undefined;
  if (secret !== undefined)
    for (const key of ["name", "versionId", "env"])
      if (!isString(secret?.[key]))
        throw new BrokerResponseInvalid(`the broker's secret answer lacks ${key}`);
  return body as unknown as ExchangeResponse;
}
