// The client's failures, one class per thing that went wrong, each with a stable `code` (like jose's
// errors). Messages never contain a subject token, an access token or a secret key.

export type ClientErrorCode =
  | "broker_request"
  | "broker_unreachable"
  | "broker_response_invalid"
  | "token_source"
  | "approval";

export class BrokerClientError extends Error {
  readonly code: ClientErrorCode;

  constructor(code: ClientErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The broker answered with an OAuth error (CONTRACT §4): `error`, `error_description`, maybe `decision_id`. */
export class BrokerRequestError extends BrokerClientError {
  /** HTTP status of the broker's answer (400, 403, 503, …). */
  readonly status: number;
  /** The OAuth `error` code, e.g. `access_denied`. */
  readonly error: string;
  readonly errorDescription: string | undefined;
  /** Set when the broker recorded a decision: quote it to an operator. */
  readonly decisionId: string | undefined;

  /** The whole error answer: the contract adds fields to some (`approval_id`, `interval`, `status`). */
  readonly fields: Record<string, unknown>;

  constructor(
    status: number,
    error: string,
    errorDescription?: string,
    decisionId?: string,
    fields: Record<string, unknown> = {},
  ) {
    super(
      "broker_request",
      `the broker refused the request: ${error}${errorDescription ? ` (${errorDescription})` : ""}${decisionId ? ` [decision ${decisionId}]` : ""}`,
    );
    this.status = status;
    this.error = error;
    this.errorDescription = errorDescription;
    this.decisionId = decisionId;
    this.fields = fields;
  }

  /** True when the broker refused because of the policy or the workload inventory (HTTP 403). */
  get denied(): boolean {
    return this.error === "access_denied";
  }

  /** True when a retry may succeed: the broker said a dependency failed and nothing was issued. */
  get retryable(): boolean {
    return this.error === "temporarily_unavailable";
  }
}

/** No HTTP answer at all: connection refused, DNS failure, timeout, a refused redirect. */
export class BrokerUnreachable extends BrokerClientError {
  readonly url: string;
  readonly reason: string;

  constructor(url: string, reason: string) {
    super("broker_unreachable", `cannot reach the broker at ${url} (${reason})`);
    this.url = url;
    this.reason = reason;
  }
}

/** The broker (or something in its place) answered 2xx with a body that is not the contract's. */
export class BrokerResponseInvalid extends BrokerClientError {
  constructor(message: string) {
    super("broker_response_invalid", message);
  }
}

/** The identity token could not be obtained: a missing file, an unset variable, no Actions runtime. */
export class TokenSourceError extends BrokerClientError {
  constructor(message: string) {
    super("token_source", message);
  }
}

/** Why a request that waited for approval got no credential. */
export type ApprovalEnd = "denied" | "expired" | "invalid" | "timeout";

/**
 * A request for a task that needs people's approval ended without a credential: an approver (or the policy)
 * denied it, it lapsed, the approval could not be used, or the caller's wait ran out first.
 */
export class ApprovalNotGranted extends BrokerClientError {
  readonly approvalId: string;
  readonly reason: ApprovalEnd;
  readonly decisionId: string | undefined;

  constructor(approvalId: string, reason: ApprovalEnd, detail: string, decisionId?: string) {
    super("approval", `approval ${approvalId} ${detail}`);
    this.approvalId = approvalId;
    this.reason = reason;
    this.decisionId = decisionId;
  }
}
