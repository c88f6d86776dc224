// `credbroker audit`: audit events by time range and workload, read by key (no scan).
import { parseArgs } from "node:util";
import type { AuditEvent } from "../core/audit.ts";
import type { GrantStore } from "../core/store.ts";
import { CliError } from "./errors.ts";
import { type CliIo, table } from "./io.ts";

export async function auditCommand(args: string[], io: CliIo, store: () => Promise<GrantStore>, nowMs = Date.now()): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      since: { type: "string" },
      until: { type: "string" },
      workload: { type: "string" },
      task: { type: "string" },
      outcome: { type: "string" },
      json: { type: "boolean", default: false },
      limit: { type: "string" },
      table: { type: "string" },
    },
  });
  const sinceMs = values.since ? Date.parse(values.since) : nowMs - 24 * 3600_000;
  const untilMs = values.until ? Date.parse(values.until) : nowMs;
  if (Number.isNaN(sinceMs) || Number.isNaN(untilMs)) throw new CliError("--since and --until take an ISO 8601 time, e.g. 2026-11-29T00:00:00Z");
  const limit = values.limit ? Number(values.limit) : undefined;
  const s = await store();
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await s.listAudit({ sinceMs, untilMs, ...(values.workload ? { workload: values.workload } : {}), ...(cursor ? { cursor } : {}) });
    for (const e of page.items) {
      if (values.task && e.task !== values.task) continue;
      if (values.outcome && e.outcome !== values.outcome) continue;
      events.push(e);
    }
    cursor = page.cursor;
  } while (cursor && (limit === undefined || events.length < limit));
  const shown = limit === undefined ? events : events.slice(0, limit);
  if (values.json) {
    io.out(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  io.out(
    table(
      shown.map((e) => ({
        time: e.time,
        outcome: e.outcome,
        workload: e.workload ?? e.subject ?? "",
        task: e.task ?? "",
        grant: e.grantId ?? "",
        decision: e.decisionId ?? "",
        why: e.errorCode ?? (e.reasons ?? []).join("; "),
      })),
      ["time", "outcome", "workload", "task", "grant", "decision", "why"],
    ),
  );
}
