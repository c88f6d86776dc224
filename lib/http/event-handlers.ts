// `POST /events/github` and `POST /events/gitlab` (CONTRACT §13): each authenticates its sender itself (no
// IAM auth): the signature or token is checked in constant time before the body is parsed, and a refused
// delivery leaves nothing behind. Thin: the core decides what a delivery ends (lib/core/events).
import { createHash, timingSafeEqual } from "node:crypto";
import { verify } from "@octokit/webhooks-methods";
import { asBrokerError, MethodNotAllowed, NotFound } from "../core/errors.ts";
import { type EventDeps, endTask } from "../core/events/end-task.ts";
import type { WebhookSecrets } from "../core/events/secrets.ts";
import { githubAction, gitlabAction, MalformedEvent, type WebhookAction } from "../core/events/webhooks.ts";
import type { Logger } from "../core/logger.ts";
import { bodyBytes, type HttpEvent, type HttpResult, header, jsonResult } from "./apigw.ts";
import { errorResult, type Handler } from "./handlers.ts";

/** Deliveries are at most 1 MiB (GitHub caps payloads at 25 MB; the events the broker reads are small). */
export const MAX_EVENT_BODY_BYTES = 1024 * 1024;

const refuse = (status: number, error: string, description: string): HttpResult =>
  jsonResult(status, { error, error_description: description });

const invalidSignature = () =>
  refuse(401, "invalid_signature", "the delivery's signature or token does not match the configured secret");

/** Equal in time that depends on neither value: both are hashed first, so their lengths do not leak. */
function sameSecret(given: string, secret: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b) && given.length === secret.length;
}

async function authentic(
  source: "github" | "gitlab",
  event: HttpEvent,
  body: Buffer,
  secret: string,
): Promise<boolean> {
  if (source === "gitlab") {
    const token = header(event, "x-gitlab-token");
    return token !== undefined && sameSecret(token, secret);
  }
  const signature = header(event, "x-hub-signature-256");
  if (!signature || body.length === 0) return false;
  // The library compares in constant time over the hex HMAC of the raw body.
  return verify(secret, body.toString("utf8"), signature);
}

export function webhookHandler(
  deps: EventDeps & { log: Logger },
  secrets: WebhookSecrets,
  source: "github" | "gitlab",
): Handler {
  return async (event) => {
    const requestId = event.requestContext.requestId;
    try {
      if (event.requestContext.http.method.toUpperCase() !== "POST") throw new MethodNotAllowed();
      const body = bodyBytes(event);
      if (body.length > MAX_EVENT_BODY_BYTES)
        return refuse(413, "request_too_large", `the request body exceeds ${MAX_EVENT_BODY_BYTES} bytes`);
      const type = (header(event, "content-type") ?? "").split(";")[0]!.trim().toLowerCase();
      if (type !== "application/json")
        return refuse(415, "unsupported_media_type", "content type must be application/json");
      const secret = await secrets.secret(source);
      if (secret === undefined) throw new NotFound();
      if (!(await authentic(source, event, body, secret))) return invalidSignature();

      // Authenticated from here on.
      const deliveryId = header(event, source === "github" ? "x-github-delivery" : "x-gitlab-event-uuid");
      const name = header(event, source === "github" ? "x-github-event" : "x-gitlab-event");
      let payload: unknown;
      try {
        payload = JSON.parse(body.toString("utf8"));
      } catch {
        return refuse(400, "invalid_request", "the body is not JSON");
      }
      if (!name) return refuse(400, "invalid_request", "the event header is missing");
      let action: WebhookAction;
      try {
        action = source === "github" ? githubAction(name, payload) : gitlabAction(name, payload);
      } catch (err) {
        if (err instanceof MalformedEvent)
          return refuse(400, "invalid_request", `the ${name} event is malformed: ${err.why}`);
        throw err;
      }
      if (action.kind === "ping") return jsonResult(200, { ok: true });
      if (action.kind === "ignored") return jsonResult(202, { ignored: action.event });
      if (!deliveryId || !/^[A-Za-z0-9-]{1,128}$/.test(deliveryId))
        return refuse(400, "invalid_request", "the delivery id header is missing or malformed");
      return jsonResult(
        200,
        await endTask(deps, { source, deliveryId, event: action.event, tasks: action.tasks }),
      );
    } catch (err) {
      const error = asBrokerError(err);
      if (error.code === "dependency_unavailable")
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
