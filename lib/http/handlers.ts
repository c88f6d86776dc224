// Thin adapters from HTTP events to the core: parse the body, call one core function, render the result
// or the error through the contract's table. Nothing here decides anything.

import {
  type ApproverDeps,
  decideApproval,
  listApprovals,
  showApproval,
} from "../core/approvals/approver-api.ts";
import type { BrokerDeps } from "../core/deps.ts";
import {
  asBrokerError,
  type BrokerError,
  ERROR_RESPONSES,
  MethodNotAllowed,
  NotFound,
} from "../core/errors.ts";
import { exchangeToken } from "../core/exchange.ts";
import { introspectToken } from "../core/introspect.ts";
import { publicJwks, serverMetadata } from "../core/metadata.ts";
import { parseParams } from "../core/params.ts";
import { releaseGrant } from "../core/release.ts";
import { bodyBytes, type HttpEvent, type HttpResult, header, jsonResult } from "./apigw.ts";

export type Handler = (event: HttpEvent) => Promise<HttpResult>;

export function errorResult(error: BrokerError, requestId?: string): HttpResult {
  const { status, error: code } = ERROR_RESPONSES[error.code];
  const body: Record<string, string | number> = {
    ...error.fields,
    error: code,
    error_description: error.message,
  };
  if (error.decisionId) body["decision_id"] = error.decisionId;
  if (status >= 500 && requestId) body["request_id"] = requestId;
  const extra: Record<string, string> = status === 405 ? { allow: "POST" } : {};
  // RFC 6750 §3: a refused bearer token says so in the challenge.
  if (status === 401) extra["www-authenticate"] = 'Bearer error="invalid_token"';
  return jsonResult(status, body, extra);
}

function post(deps: BrokerDeps, work: (event: HttpEvent) => Promise<unknown>): Handler {
  return async (event) => {
    const requestId = event.requestContext.requestId;
    try {
      if (event.requestContext.http.method.toUpperCase() !== "POST") throw new MethodNotAllowed();
      return jsonResult(200, await work(event));
    } catch (err) {
      const error = asBrokerError(err);
      if (error.code === "dependency_unavailable" && error.detail)
        deps.log.error("request failed", {
          requestId,
          code: error.code,
          detail: error.detail,
          path: event.rawPath,
        });
      return errorResult(error, requestId);
    }
  };
}

function get(deps: BrokerDeps, work: () => Promise<unknown>): Handler {
  return async (event) => {
    try {
      const method = event.requestContext.http.method.toUpperCase();
      if (method !== "GET" && method !== "HEAD") {
        const r = errorResult(new MethodNotAllowed());
        r.headers["allow"] = "GET";
        return r;
      }
      return jsonResult(200, await work());
    } catch (err) {
      const error = asBrokerError(err);
      deps.log.error("request failed", { code: error.code, detail: error.detail, path: event.rawPath });
      return errorResult(error, event.requestContext.requestId);
    }
  };
}

/**
 * `GET /approvals`, `GET /approvals/{id}`, `POST /approvals/{id}` (CONTRACT §10): one function behind the
 * approver routes, authenticated by the approver token in `Authorization`, not by IAM.
 */
export function approvalsHandler(deps: ApproverDeps): Handler {
  return async (event) => {
    const requestId = event.requestContext.requestId;
    try {
      const method = event.requestContext.http.method.toUpperCase();
      const id = /^\/approvals(?:\/([^/]+))?\/?$/.exec(event.rawPath)?.[1];
      const authorization = header(event, "authorization");
      if (method === "GET" || method === "HEAD")
        return jsonResult(
          200,
          id === undefined
            ? await listApprovals(deps, authorization, event.requestContext.http.sourceIp)
            : await showApproval(
                deps,
                authorization,
                decodeURIComponent(id),
                event.requestContext.http.sourceIp,
              ),
        );
      if (method !== "POST" || id === undefined) {
        const r = errorResult(new MethodNotAllowed());
        r.headers["allow"] = id === undefined ? "GET" : "GET, POST";
        return r;
      }
      return jsonResult(
        200,
        await decideApproval(deps, {
          authorization,
          id: decodeURIComponent(id),
          params: params(event),
          sourceIp: event.requestContext.http.sourceIp,
        }),
      );
    } catch (err) {
      const error = err instanceof URIError ? new NotFound() : asBrokerError(err);
      if (error.code === "dependency_unavailable")
        deps.log.error("request failed", {
          requestId,
          code: error.code,
          detail: error.detail,
          path: "/approvals",
        });
      return errorResult(error, requestId);
    }
  };
}

const params = (event: HttpEvent) => parseParams(header(event, "content-type"), bodyBytes(event));

export function createHandlers(deps: BrokerDeps) {
  return {
    token: post(deps, (event) =>
      exchangeToken(
        deps,
        { contentType: header(event, "content-type"), bytes: bodyBytes(event) },
        event.requestContext.http.sourceIp,
      ),
    ),
    introspect: post(deps, (event) => introspectToken(deps, params(event))),
    revoke: post(deps, (event) => releaseGrant(deps, params(event))),
    jwks: get(deps, () => publicJwks(deps.signer)),
    metadata: get(deps, async () => serverMetadata(deps.config.issuerUrl, deps.config.audience)),
    approvals: approvalsHandler(deps),
  } satisfies Record<string, Handler>;
}

export type BrokerHandlers = ReturnType<typeof createHandlers>;
