// The events function (CONTRACT §13): `POST /events/github` and `POST /events/gitlab` behind the HTTP API,
// and the EventBridge rule's security findings. It alone reads the webhook secrets. Built like the sweep
// (no signer: it ends grants, it never issues or verifies a broker token).
import { emfLine } from "../aws/emf.ts";
import { DependencyUnavailable, NotFound } from "../core/errors.ts";
import { handleFindings } from "../core/events/findings.ts";
import { MalformedEvent } from "../core/events/webhooks.ts";
import type { HttpEvent, HttpResult } from "../http/apigw.ts";
import { createEventRoutes } from "../http/event-routes.ts";
import { errorResult, type Handler } from "../http/handlers.ts";
import { cedarReady } from "./cedar-ready.ts";
import { lambdaSweepDeps, type SweepRuntimeDeps } from "./lambda-runtime.ts";

const isHttp = (event: unknown): event is HttpEvent =>
  typeof event === "object" && event !== null && "requestContext" in event && "rawPath" in event;

export function lambdaEventsHandler(): (event: unknown) => Promise<unknown> {
  let deps: SweepRuntimeDeps | undefined;
  let routes: Record<string, Handler> | undefined;
  const dimensions = { FunctionName: process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "credbroker-events" };
  return async (event) => {
    // Its decisions (a finding's signal re-decides grants) need Cedar's compile done (cedar-ready.ts).
    await cedarReady();
    if (isHttp(event)) {
      const requestId = event.requestContext.requestId;
      try {
        deps ??= lambdaSweepDeps();
        routes ??= createEventRoutes(deps, { env: process.env }).routes;
      } catch (err) {
        // A deployment fault answers 503 (API Gateway would turn a thrown init error into a 500).
        process.stdout.write(
          `${JSON.stringify({ level: "error", message: "broker unavailable", requestId, error: (err as Error)?.name })}\n`,
        );
        return errorResult(new DependencyUnavailable("broker start-up"), requestId) satisfies HttpResult;
      }
      const route = routes[event.rawPath];
      return route ? route(event) : errorResult(new NotFound());
    }
    // An EventBridge finding: a failure throws, so EventBridge retries and then dead-letters it.
    deps ??= lambdaSweepDeps();
    try {
      const outcomes = await handleFindings(deps, event);
      deps.log.info("findings", { outcomes });
      process.stdout.write(
        emfLine(
          {
            FindingsRevoked: { value: outcomes.filter((o) => o.outcome === "revoked").length, unit: "Count" },
            FindingsIgnored: { value: outcomes.filter((o) => o.outcome !== "revoked").length, unit: "Count" },
          },
          { timestampMs: Date.now(), dimensions },
        ),
      );
      return { findings: outcomes };
    } catch (err) {
      // A malformed event is not retried: it would fail the same way every time.
      if (err instanceof MalformedEvent) {
        deps.log.warn("not a finding event", { why: err.why });
        return { findings: [] };
      }
      throw err;
    }
  };
}
