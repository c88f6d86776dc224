// A broker with one approval task, an approver issuer beside the workload issuer, and helpers that speak
// the HTTP surface of CONTRACT §10 through the same handlers the Lambdas and `credbroker dev` run.
import type { HttpEvent } from "../../lib/http/apigw.ts";
import { createHandlers } from "../../lib/http/handlers.ts";
import {
  BASE_POLICIES,
  baseConfig,
  createTestBroker,
  NOW,
  type TestBroker,
  type TestBrokerOptions,
} from "../support/broker.ts";
import { createTestIssuer, type TestIssuer } from "../support/issuer.ts";

export { NOW };

export const APPROVE_POLICIES = `${BASE_POLICIES}
@id("agents-rotate-db")
permit (principal, action == Action::"issue", resource == Task::"rotate-db")
when { principal.hasTag("repository") && principal.getTag("repository") == "acme/web" };

@id("sre-approve")
permit (principal, action == Action::"approve", resource)
when { principal.hasTag("groups") && principal.getTag("groups") like "*sre*" };

@id("no-approving-own-team")
forbid (principal, action == Action::"approve", resource)
when { principal.hasTag("email") && principal.getTag("email") == context.owner };
`;

export interface ApprovalBroker extends TestBroker {
  approvers: TestIssuer;
  /** A workload token for web-ci (repository acme/web), minted now. */
  workloadToken(claims?: Record<string, unknown>): Promise<string>;
  /** An approver token from the approver issuer, minted now. */
  approverToken(sub: string, claims?: Record<string, unknown>): Promise<string>;
  request(
    token: string,
    extra?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  approvalsCall(
    method: "GET" | "POST",
    path: string,
    init?: {
      token?: string;
      body?: Record<string, string>;
      headers?: Record<string, string>;
      /** The approver's address (default 127.0.0.1). */
      sourceIp?: string;
    },
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Record<string, string> }>;
  approve(
    id: string,
    token: string,
    decision?: "approve" | "deny",
    reason?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
}

export async function createApprovalBroker(
  options: {
    approvals?: number;
    expiresInSeconds?: number;
    webhookUrl?: string;
    policies?: string;
  } & Pick<TestBrokerOptions, "adapters" | "store"> = {},
): Promise<ApprovalBroker> {
  const approvers = await createTestIssuer("https://idp.corp.test");
  const broker = await createTestBroker({
    ...(options.store ? { store: options.store } : {}),
    ...(options.adapters ? { adapters: options.adapters } : {}),
    policies: options.policies ?? APPROVE_POLICIES,
    config: (issuer) => {
      const base = baseConfig(issuer);
      return {
        ...base,
        issuers: [
          ...(base["issuers"] as unknown[]),
          { name: "corp", issuer: approvers.issuer, jwks: approvers.jwks, algorithms: [approvers.alg] },
        ],
        workloads: [
          ...(base["workloads"] as unknown[]),
          { name: "other-ci", issuer: "test", subject: "repo:acme/other:**", owner: "team-other@acme.test" },
        ],
        tasks: [
          ...(base["tasks"] as unknown[]),
          {
            name: "rotate-db",
            provider: "jwt",
            audience: "https://db.test",
            maxDurationSeconds: 600,
            sensitivity: "critical",
            approval: {
              approvals: options.approvals ?? 2,
              expiresInSeconds: options.expiresInSeconds ?? 900,
            },
          },
        ],
        approvals: {
          issuers: ["corp"],
          ...(options.webhookUrl ? { notify: { webhookUrl: options.webhookUrl } } : {}),
        },
      };
    },
  });
  const handlers = createHandlers(broker.deps);
  const approvalsCall: ApprovalBroker["approvalsCall"] = async (method, path, init = {}) => {
    const event: HttpEvent = {
      rawPath: path,
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
        ...init.headers,
      },
      body: init.body ? new URLSearchParams(init.body).toString() : "",
      isBase64Encoded: false,
      requestContext: { requestId: "req-a", http: { method, path, sourceIp: init.sourceIp ?? "127.0.0.1" } },
    };
    const result = await handlers.approvals(event);
    return { status: result.statusCode, body: JSON.parse(result.body), headers: result.headers };
  };
  return {
    ...broker,
    approvers,
    workloadToken: (claims = {}) =>
      broker.issuer.mint({ repository: "acme/web", ...claims }, { nowMs: broker.clock.now() }),
    approverToken: (sub, claims = {}) =>
      approvers.mint(
        { sub, groups: ["sre"], email: `${sub}@acme.test`, ...claims },
        { nowMs: broker.clock.now() },
      ),
    request: (token, extra = {}) =>
      broker.exchange(token, { scope: "rotate-db", purpose: "rotate after leak", ...extra }),
    approvalsCall,
    approve: (id, token, decision = "approve", reason = "looks right") =>
      approvalsCall("POST", `/approvals/${id}`, { token, body: { decision, reason } }),
  };
}
