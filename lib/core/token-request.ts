// The RFC 8693 token-exchange request of CONTRACT §4, parsed into a typed value once.
import {
  MalformedParameter,
  MissingParameter,
  ScopeNotSingle,
  UnsupportedGrantType,
  UnsupportedTokenType,
} from "./errors.ts";
import { GRANT_ID_PATTERN } from "./ids.ts";
import type { Params } from "./params.ts";
import { isSafeText } from "./text.ts";

export const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
export const SUBJECT_TOKEN_TYPES = [
  "urn:ietf:params:oauth:token-type:jwt",
  "urn:ietf:params:oauth:token-type:id_token",
];

export interface TokenRequest {
  subjectToken: string;
  subjectTokenType: string;
  task: string;
  durationSeconds?: number;
  purpose: string;
  requestedTokenType?: string;
  /** A poll for an approval request (CONTRACT §10). */
  approvalId?: string;
}

export function required(params: Params, name: string): string {
  const value = params.get(name);
  if (value === undefined || value === "") throw new MissingParameter(name);
  if (value.includes("\u0000")) throw new MalformedParameter(name, "must be a string");
  return value;
}

export function parseTokenRequest(params: Params): TokenRequest {
  const grantType = required(params, "grant_type");
  if (grantType !== TOKEN_EXCHANGE) throw new UnsupportedGrantType();
  const subjectToken = required(params, "subject_token");
  const subjectTokenType = required(params, "subject_token_type");
  if (!SUBJECT_TOKEN_TYPES.includes(subjectTokenType)) throw new UnsupportedTokenType("subject_token_type");

  const scope = params.get("scope");
  if (scope === undefined || scope.includes("\u0000")) throw new ScopeNotSingle();
  const scopes = scope.split(" ").filter((s) => s !== "");
  if (scopes.length !== 1 || scope.length > 128) throw new ScopeNotSingle();

  const request: TokenRequest = { subjectToken, subjectTokenType, task: scopes[0]!, purpose: "" };

  const duration = params.get("duration_seconds");
  if (duration !== undefined) {
    if (!/^[0-9]{1,6}$/.test(duration))
      throw new MalformedParameter("duration_seconds", "must be a whole number of seconds");
    request.durationSeconds = Number(duration);
  }
  const purpose = params.get("purpose");
  if (purpose !== undefined) {
    // An approver reads the purpose before deciding: nothing in it may disguise what they read.
    if (purpose.length > 256 || !isSafeText(purpose))
      throw new MalformedParameter(
        "purpose",
        "must be at most 256 printable characters (no controls, bidi or zero-width characters)",
      );
    request.purpose = purpose;
  }
  const requested = params.get("requested_token_type");
  if (requested !== undefined && requested !== "") {
    if (requested.includes("\u0000") || requested.length > 256)
      throw new MalformedParameter("requested_token_type", "must be a token type URI");
    request.requestedTokenType = requested;
  }
  const approvalId = params.get("approval_id");
  if (approvalId !== undefined) {
    if (!GRANT_ID_PATTERN.test(approvalId))
      throw new MalformedParameter("approval_id", "is not an approval id");
    request.approvalId = approvalId;
  }
  return request;
}
