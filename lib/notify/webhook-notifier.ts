// Posts approval announcements to the config's webhook (Slack incoming-webhook compatible: `{"text"}`).
// Short timeout, no redirects, and never a failure for the caller: a webhook that is down is logged and
// the request goes on. The URL is a secret of its own (anyone holding a Slack webhook URL can post), so it
// is never logged.
import type { ApprovalNotifier } from "../core/approvals/notify.ts";
import type { Logger } from "../core/logger.ts";

export interface WebhookNotifierOptions {
  url: string;
  log: Logger;
  /** How long one delivery may take; default 2 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export function createWebhookNotifier(options: WebhookNotifierOptions): ApprovalNotifier {
  const send = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 2000;
  return {
    async notify(message) {
      try {
        const res = await send(options.url, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(message),
          redirect: "error",
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel().catch(() => {});
        if (!res.ok) options.log.warn("approval webhook refused the message", { status: res.status });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        options.log.warn("approval webhook unreachable", { error: e.cause?.code ?? e.name });
      }
    },
  };
}
