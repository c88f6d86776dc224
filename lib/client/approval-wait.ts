// Waiting for people (CONTRACT §10, RFC 8628 §3.5): a token request for a task that needs approval answers
// `authorization_pending` with an approval id; this polls with it at the broker's interval (growing it on
// `slow_down`) until the credential arrives, the request is denied or lapses, or the caller's wait runs out.
import type { BrokerClient, ExchangeRequest, ExchangeResponse } from "./broker-client.ts";
import { ApprovalNotGranted, BrokerRequestError } from "./errors.ts";

export interface PendingApproval {
  approvalId: string;
  /** Seconds between polls, as the broker asks. */
  interval: number;
  /** Seconds until the request lapses. */
  expiresIn: number;
}

export interface WaitForApprovalOptions {
  /** The longest the caller waits, in seconds. */
  waitSeconds: number;
  /** Told once, when the broker first answers that approval is pending. */
  onPending?: (pending: PendingApproval) => void;
  /** For tests; default setTimeout and Date.now. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const num = (v: unknown, fallback: number) =>
  typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;

/**
 * Exchanges, waiting for approval when the task needs it. `request` is called before every attempt, so a
 * short-lived identity token can be fetched afresh for each poll.
 */
export async function exchangeWaitingForApproval(
  client: BrokerClient,
  request: () => Promise<ExchangeRequest>,
  options: WaitForApprovalOptions,
): Promise<ExchangeResponse> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = now() + options.waitSeconds * 1000;
  let approvalId: string | undefined;
  let interval = 5;
  for (;;) {
    try {
      const base = await request();
      return await client.exchange(approvalId === undefined ? base : { ...base, approvalId });
    } catch (err) {
      if (!(err instanceof BrokerRequestError)) throw err;
      const id = typeof err.fields["approval_id"] === "string" ? err.fields["approval_id"] : approvalId;
      if (err.error === "authorization_pending" || err.error === "slow_down") {
        interval = num(err.fields["interval"], err.error === "slow_down" ? interval + 5 : interval);
        if (approvalId === undefined && id !== undefined) {
          approvalId = id;
          options.onPending?.({ approvalId: id, interval, expiresIn: num(err.fields["expires_in"], 0) });
        }
        if (approvalId === undefined) throw err;
        if (now() + interval * 1000 > deadline)
          throw new ApprovalNotGranted(
            approvalId,
            "timeout",
            `is still pending after waiting ${options.waitSeconds} s (asking again returns the same request)`,
          );
        await sleep(interval * 1000);
        continue;
      }
      if (approvalId === undefined) throw err;
      if (err.error === "access_denied")
        throw new ApprovalNotGranted(
          approvalId,
          "denied",
          `was denied (${err.errorDescription ?? "access_denied"})`,
          err.decisionId,
        );
      if (err.error === "expired_token")
        throw new ApprovalNotGranted(
          approvalId,
          "expired",
          "lapsed before anyone approved it; make a new request",
        );
      if (err.error === "invalid_grant")
        throw new ApprovalNotGranted(
          approvalId,
          "invalid",
          `cannot be used (${err.errorDescription ?? "invalid_grant"})`,
        );
      throw err;
    }
  }
}
