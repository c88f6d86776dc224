// The webhook routes in-process on a test broker (dynalite, inline-JWKS issuer, fixed clock): for tests that
// need a broker built with other providers (PostgreSQL) or that read the report, where a dev server adds
// nothing. The same handlers as `credbroker dev` and the events Lambda.
import { sign } from "@octokit/webhooks-methods";
import type { HttpEvent } from "../../lib/http/apigw.ts";
import { createEventRoutes } from "../../lib/http/event-routes.ts";
import type { TestBroker } from "../support/broker.ts";
import { GITHUB_SECRET, newDeliveryId } from "./support.ts";

export const EVENTS_CONFIG = {
  github: { secret: { env: "GH_WEBHOOK" }, issuers: ["test"] },
  findings: { minSeverity: 4, signal: "finding" },
};

export function githubDeliverer(broker: TestBroker) {
  const { routes } = createEventRoutes(broker.deps, { env: { GH_WEBHOOK: GITHUB_SECRET } });
  return async (event: string, payload: unknown, id = newDeliveryId()) => {
    const body = JSON.stringify(payload);
    const request: HttpEvent = {
      rawPath: "/events/github",
      headers: {
        "content-type": "application/json",
        "x-github-event": event,
        "x-github-delivery": id,
        "x-hub-signature-256": await sign(GITHUB_SECRET, body),
      },
      body,
      isBase64Encoded: false,
      requestContext: {
        requestId: "req-1",
        http: { method: "POST", path: "/events/github", sourceIp: "192.30.252.1" },
      },
    };
    const result = await routes["/events/github"]!(request);
    return { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown>, id };
  };
}

/** The claims of a GitHub Actions job token for the completed workflow_job example. */
export const EXAMPLE_JOB_CLAIMS = {
  repository: "acme/web",
  repository_id: "186853002",
  run_id: "2202229078",
  run_attempt: "1",
  check_run_id: "1291536064",
};
