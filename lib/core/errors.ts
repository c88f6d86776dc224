// Every failure the broker reports has a stable code and a fixed description: never a raw library
// message or a claim value, so nothing an attacker sends is echoed back (STYLE.md §3).

export type OAuthError =
  | "invalid_request"
  | "unsupported_grant_type"
  | "invalid_scope"
  | "access_denied"
  | "temporarily_unavailable"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "request_too_large"
  | "not_found"
  | "authorization_pending"
  | "slow_down"
  | "expired_token"
  | "invalid_grant"
  | "invalid_token"
  | "conflict";

export type BrokerErrorCode =
  | "missing_parameter"
  | "repeated_parameter"
  | "malformed_parameter"
  | "unsupported_grant_type"
  | "unsupported_token_type"
  | "subject_token_malformed"
  | "subject_token_invalid"
  | "subject_token_expired"
  | "subject_token_too_old"
  | "untrusted_issuer"
  | "wrong_audience"
  | "algorithm_not_allowed"
  | "unknown_task"
  | "scope_not_single"
  | "duration_out_of_range"
  | "template_value_rejected"
  | "session_policy_too_large"
  | "sts_limit_exceeded"
  | "upstream_rejected_policy"
  | "repository_rejected"
  | "github_refused"
  | "unregistered_workload"
  | "disabled_workload"
  | "policy_denied"
  | "task_ended"
  | "dependency_unavailable"
  | "method_not_allowed"
  | "unsupported_media_type"
  | "body_too_large"
  | "not_found"
  | "authorization_pending"
  | "slow_down"
  | "approval_denied"
  | "approval_expired"
  | "approval_invalid"
  | "invalid_approver_token"
  | "approver_not_permitted"
  | "approval_conflict";

export class BrokerError extends Error {
  readonly code: BrokerErrorCode;
  /** Set when a decision was recorded, so the caller can quote it to an operator. */
  decisionId?: string;
  /** What went wrong in detail, for server-side logs only; never sent to the caller. */
  readonly detail?: string;
  /** Fields the contract adds to this error's answer (an approval's id and interval, a request's status). */
  fields?: Record<string, string | number>;
  /**
   * Set on an answer the audit already holds (a poll of a pending approval request, or the same request
   * asked again): no event is stored for it, so a long wait does not fill the trail.
   */
  unaudited?: boolean;

  constructor(code: BrokerErrorCode, message: string, detail?: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (detail !== undefined) this.detail = detail;
  }
}

export class MissingParameter extends BrokerError {
  constructor(name: string) {
    super("missing_parameter", `the ${name} parameter is required`);
  }
}
export class RepeatedParameter extends BrokerError {
  constructor(name: string) {
    super("repeated_parameter", `the ${name} parameter must not be repeated`);
  }
}
export class MalformedParameter extends BrokerError {
  constructor(name: string, rule: string) {
    super("malformed_parameter", `the ${name} parameter ${rule}`);
  }
}
export class UnsupportedGrantType extends BrokerError {
  constructor() {
    super("unsupported_grant_type", "grant_type must be urn:ietf:params:oauth:grant-type:token-exchange");
  }
}
export class UnsupportedTokenType extends BrokerError {
  constructor(name: string) {
    super("unsupported_token_type", `the ${name} is not supported for this request`);
  }
}
export class SubjectTokenMalformed extends BrokerError {
  constructor(detail?: string) {
    super("subject_token_malformed", "the subject token is not a well-formed signed JWT", detail);
  }
}
export class SubjectTokenInvalid extends BrokerError {
  constructor(detail?: string) {
    super("subject_token_invalid", "the subject token failed verification", detail);
  }
}
export class SubjectTokenExpired extends BrokerError {
  constructor(detail?: string) {
    super("subject_token_expired", "the subject token is expired or not yet valid", detail);
  }
}
export class SubjectTokenTooOld extends BrokerError {
  constructor() {
    super("subject_token_too_old", "the subject token was issued too long ago");
  }
}
export class UntrustedIssuer extends BrokerError {
  constructor() {
    super("untrusted_issuer", "the subject token's issuer is not trusted");
  }
}
export class WrongAudience extends BrokerError {
  constructor() {
    super("wrong_audience", "the subject token's audience does not include this broker");
  }
}
export class AlgorithmNotAllowed extends BrokerError {
  constructor() {
    super("algorithm_not_allowed", "the subject token's signing algorithm is not allowed for its issuer");
  }
}
export class UnknownTask extends BrokerError {
  constructor() {
    super("unknown_task", "the scope does not name a configured task");
  }
}
export class ScopeNotSingle extends BrokerError {
  constructor() {
    super("scope_not_single", "the scope must name exactly one task");
  }
}
export class DurationOutOfRange extends BrokerError {
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super("duration_out_of_range", `duration_seconds must be between ${min} and ${max} for this task`);
  }
}
export class TemplateValueRejected extends BrokerError {
  /** `where` names what the value was rendered into: "a session policy", "a GitHub repository name". */
  constructor(placeholder: string, where = "a session policy") {
    super(
      "template_value_rejected",
      `the value for ${placeholder} is missing or contains characters not allowed in ${where}`,
    );
  }
}
export class SessionPolicyTooLarge extends BrokerError {
  constructor(task: string, size: number) {
    super(
      "session_policy_too_large",
      `the session policy of task ${task} renders to ${size} characters; STS allows 2048`,
    );
  }
}
export class StsLimitExceeded extends BrokerError {
  constructor(rule: string) {
    super("sts_limit_exceeded", `the request would break an STS limit: ${rule}`);
  }
}
export class UpstreamRejectedPolicy extends BrokerError {
  constructor(task: string, detail?: string) {
    super("upstream_rejected_policy", `AWS STS rejected the session policy of task ${task}`, detail);
  }
}
/** A github task's repository rendered to something other than one repository of the task's owner. */
export class RepositoryRejected extends BrokerError {
  constructor(why: string) {
    super("repository_rejected", `a requested repository ${why}; nothing was sent to GitHub`);
  }
}
/** GitHub refused the installation token (403/404/422); its own message goes to the error log only. */
export class GitHubRefused extends BrokerError {
  constructor(status: number, detail?: string) {
    super(
      "github_refused",
      `GitHub refused the installation token (HTTP ${status}): the App lacks a repository or permission, or is not installed`,
      detail,
    );
  }
}
export class UnregisteredWorkload extends BrokerError {
  constructor() {
    super("unregistered_workload", "the subject is not a registered workload");
  }
}
export class DisabledWorkload extends BrokerError {
  constructor() {
    super("disabled_workload", "the workload is disabled");
  }
}
export class PolicyDenied extends BrokerError {
  constructor() {
    super("policy_denied", "the policy does not allow this workload to perform this task now");
  }
}
/** CONTRACT §13: the CI job or run the subject token was issued for has ended. */
export class TaskEnded extends BrokerError {
  constructor() {
    super("task_ended", "the job or run this token was issued for has ended");
  }
}
export class DependencyUnavailable extends BrokerError {
  constructor(what: string, detail?: string) {
    super("dependency_unavailable", `a dependency is unavailable (${what}); nothing was issued`, detail);
  }
}
export class MethodNotAllowed extends BrokerError {
  constructor() {
    super("method_not_allowed", "method not allowed");
  }
}
export class UnsupportedMediaType extends BrokerError {
  constructor() {
    super(
      "unsupported_media_type",
      "content type must be application/x-www-form-urlencoded or application/json",
    );
  }
}
export class BodyTooLarge extends BrokerError {
  constructor(limit: number) {
    super("body_too_large", `the request body exceeds ${limit} bytes`);
  }
}
export class NotFound extends BrokerError {
  constructor() {
    super("not_found", "not found");
  }
}

// Human approval (CONTRACT §10): the RFC 8628 polling answers and the approver routes' failures.
type ApprovalAnswer = { approvalId: string; intervalSeconds: number; expiresInSeconds: number };
const pollFields = (a: ApprovalAnswer) => ({
  approval_id: a.approvalId,
  interval: a.intervalSeconds,
  expires_in: a.expiresInSeconds,
});
export class AuthorizationPending extends BrokerError {
  constructor(answer: ApprovalAnswer) {
    super("authorization_pending", "the request waits for approval; poll again with approval_id");
    this.fields = pollFields(answer);
  }
}
export class SlowDown extends BrokerError {
  constructor(answer: ApprovalAnswer) {
    super("slow_down", "polled faster than the interval; the interval grew by 5 seconds");
    this.fields = pollFields(answer);
  }
}
export class ApprovalDenied extends BrokerError {
  constructor() {
    super("approval_denied", "an approver denied the request");
  }
}
export class ApprovalExpired extends BrokerError {
  constructor() {
    super("approval_expired", "the approval request lapsed; make a new request");
  }
}
export class ApprovalInvalid extends BrokerError {
  constructor(why: "unknown" | "used" | "other-workload" | "mismatch") {
    const text = {
      unknown: "approval_id does not name an approval request",
      used: "the approval was already used",
      "other-workload": "the approval request belongs to another workload",
      mismatch: "the poll must repeat the request's task, purpose and duration",
    }[why];
    super("approval_invalid", text);
  }
}
export class InvalidApproverToken extends BrokerError {
  constructor(detail?: string) {
    super("invalid_approver_token", "a valid approver token is required (Authorization: Bearer)", detail);
  }
}
export class ApproverNotPermitted extends BrokerError {
  constructor() {
    super("approver_not_permitted", "no policy permits this approver to decide this request");
  }
}
export class ApprovalConflict extends BrokerError {
  constructor(status: string) {
    super("approval_conflict", `the approval request is no longer pending (${status})`);
    this.fields = { status };
  }
}

/** The one table from codes to the contract's HTTP status and OAuth error (CONTRACT §4). */
export const ERROR_RESPONSES: Record<BrokerErrorCode, { status: number; error: OAuthError }> = {
  missing_parameter: { status: 400, error: "invalid_request" },
  repeated_parameter: { status: 400, error: "invalid_request" },
  malformed_parameter: { status: 400, error: "invalid_request" },
  unsupported_grant_type: { status: 400, error: "unsupported_grant_type" },
  unsupported_token_type: { status: 400, error: "invalid_request" },
  subject_token_malformed: { status: 400, error: "invalid_request" },
  subject_token_invalid: { status: 400, error: "invalid_request" },
  subject_token_expired: { status: 400, error: "invalid_request" },
  subject_token_too_old: { status: 400, error: "invalid_request" },
  untrusted_issuer: { status: 400, error: "invalid_request" },
  wrong_audience: { status: 400, error: "invalid_request" },
  algorithm_not_allowed: { status: 400, error: "invalid_request" },
  unknown_task: { status: 400, error: "invalid_scope" },
  scope_not_single: { status: 400, error: "invalid_scope" },
  duration_out_of_range: { status: 400, error: "invalid_request" },
  template_value_rejected: { status: 400, error: "invalid_request" },
  session_policy_too_large: { status: 400, error: "invalid_request" },
  sts_limit_exceeded: { status: 400, error: "invalid_request" },
  upstream_rejected_policy: { status: 400, error: "invalid_request" },
  repository_rejected: { status: 400, error: "invalid_request" },
  github_refused: { status: 400, error: "invalid_request" },
  unregistered_workload: { status: 403, error: "access_denied" },
  disabled_workload: { status: 403, error: "access_denied" },
  policy_denied: { status: 403, error: "access_denied" },
  task_ended: { status: 403, error: "access_denied" },
  dependency_unavailable: { status: 503, error: "temporarily_unavailable" },
  method_not_allowed: { status: 405, error: "method_not_allowed" },
  unsupported_media_type: { status: 415, error: "unsupported_media_type" },
  body_too_large: { status: 413, error: "request_too_large" },
  not_found: { status: 404, error: "not_found" },
  authorization_pending: { status: 400, error: "authorization_pending" },
  slow_down: { status: 400, error: "slow_down" },
  approval_denied: { status: 403, error: "access_denied" },
  approval_expired: { status: 400, error: "expired_token" },
  approval_invalid: { status: 400, error: "invalid_grant" },
  invalid_approver_token: { status: 401, error: "invalid_token" },
  approver_not_permitted: { status: 403, error: "access_denied" },
  approval_conflict: { status: 409, error: "conflict" },
};

/** Anything that is not a BrokerError is a bug or an outage: fail closed as 503. */
export function asBrokerError(err: unknown): BrokerError {
  if (err instanceof BrokerError) return err;
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return new DependencyUnavailable("internal", detail);
}
