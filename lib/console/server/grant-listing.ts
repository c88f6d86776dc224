// One page of the console's grant list, newest first, read through the store's own paging (never the whole
// table): the given workload's index, or every configured workload's read side by side and merged by issue
// time (without the workloads, the admin listing). A task or status filter narrows each store page; a few
// store pages are read until the console's page is full, and the cursor links to the next one.
import type { ApprovalRequest } from "../../core/approvals/request.ts";
import type { AuditEvent } from "../../core/audit.ts";
import type { Grant, GrantStatus } from "../../core/grant.ts";
import { type GrantStore, grantOrderKey } from "../../core/store.ts";

export interface GrantFilter {
  status?: GrantStatus | undefined;
  workload?: string | undefined;
  task?: string | undefined;
}

export const PAGE_SIZE = 25;
/** Store pages read for one console page at most, so a rare filter cannot keep a request reading. */
const MAX_STORE_PAGES = 8;
/**
 * Items a store page evaluates when a filter narrows it (a scan's Limit counts the items read, audit
 * events and all): larger, so a filtered page does not come back nearly empty with a link to go on.
 */
const FILTERED_READ = 200;

export async function grantPage(
  store: GrantStore,
  filter: GrantFilter,
  cursor?: string,
  /** The configured workloads: without a workload filter, their grants are listed newest first. */
  workloads?: readonly string[],
): Promise<{ items: Grant[]; cursor?: string }> {
  const matches = (g: Grant) =>
    (!filter.status || g.status === filter.status) && (!filter.task || g.task === filter.task);
  const narrowed = Boolean(filter.task || filter.status);
  if (!filter.workload && workloads) return newestPage(store, workloads, matches, narrowed, cursor);
  const items: Grant[] = [];
  let next = cursor;
  let reads = 0;
  do {
    const options = { limit: narrowed ? FILTERED_READ : PAGE_SIZE, ...(next ? { cursor: next } : {}) };
    const page = filter.workload
      ? await store.listGrantsByWorkload(filter.workload, options)
      : await store.listGrants({ ...options, ...(filter.status ? { status: filter.status } : {}) });
    items.push(...page.items.filter(matches));
    next = page.cursor;
    reads++;
  } while (next && items.length < PAGE_SIZE && reads < MAX_STORE_PAGES);
  return next ? { items, cursor: next } : { items };
}

const encodeBefore = (key: string) => Buffer.from(JSON.stringify({ before: key })).toString("base64url");
function decodeBefore(cursor: string): string {
  try {
    const before = (JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { before?: unknown })
      .before;
    if (typeof before === "string" && before.length > 0) return before;
  } catch {}
  throw new TypeError("invalid cursor");
}

/**
 * Every workload's grants, newest first: each workload's index read newest first from the last grant shown,
 * merged by issue time. A workload whose page was cut may still hold grants newer than another's last one,
 * so the merge is only certain down to the newest such cut; the next round reads on from there.
 */
async function newestPage(
  store: GrantStore,
  workloads: readonly string[],
  matches: (g: Grant) => boolean,
  narrowed: boolean,
  cursor: string | undefined,
): Promise<{ items: Grant[]; cursor?: string }> {
  let before = cursor === undefined ? undefined : decodeBefore(cursor);
  const items: Grant[] = [];
  const limit = narrowed ? FILTERED_READ : PAGE_SIZE;
  for (let round = 0; round < MAX_STORE_PAGES; round++) {
    const pages = await Promise.all(
      workloads.map((w) => store.listGrantsByWorkload(w, { limit, ...(before ? { before } : {}) })),
    );
    let certain: string | undefined;
    for (const p of pages) {
      const last = p.items.at(-1);
      if (p.cursor && last && (certain === undefined || grantOrderKey(last) > certain))
        certain = grantOrderKey(last);
    }
    const merged = pages
      .flatMap((p) => p.items)
      .filter((g) => certain === undefined || grantOrderKey(g) >= certain)
      .sort((a, b) => (grantOrderKey(a) < grantOrderKey(b) ? 1 : -1));
    for (const g of merged) {
      before = grantOrderKey(g);
      if (!matches(g)) continue;
      items.push(g);
      if (items.length === PAGE_SIZE) return { items, cursor: encodeBefore(before) };
    }
    if (certain === undefined) return { items };
  }
  return before ? { items, cursor: encodeBefore(before) } : { items };
}

/** A workload's audit events of [sinceMs, untilMs] that `keep` picks. */
async function workloadEvents(
  store: GrantStore,
  workload: string,
  sinceMs: number,
  untilMs: number,
  keep: (e: AuditEvent) => boolean,
): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  let reads = 0;
  do {
    const page = await store.listAudit({ sinceMs, untilMs, workload, ...(cursor ? { cursor } : {}) });
    events.push(...page.items.filter(keep));
    cursor = page.cursor;
  } while (cursor && ++reads < 50);
  return events;
}

export interface GrantTrail {
  /** The grant's events, and those of the approval it was issued under, newest first. */
  events: AuditEvent[];
  /** The approval request the grant was issued under, if any: who approved it. */
  approval?: ApprovalRequest;
}

/**
 * A grant's audit trail: its workload's events since just before it was issued that name it. A grant issued
 * under an approval (its issue event names the approval) also gets the approval's events — the request and
 * each decision, made before the grant existed — and the request itself, to show who approved it.
 */
export async function grantTrail(store: GrantStore, grant: Grant, nowMs: number): Promise<GrantTrail> {
  const issuedMs = Date.parse(grant.issuedAt);
  const events = await workloadEvents(
    store,
    grant.workload,
    issuedMs - 60_000,
    nowMs,
    (e) => e.grantId === grant.grantId,
  );
  const approvalId = events.find((e) => e.approvalId !== undefined)?.approvalId;
  const approval = approvalId ? await store.approvals?.get(approvalId) : undefined;
  if (approval)
    events.push(
      ...(await workloadEvents(
        store,
        grant.workload,
        approval.requestedAtMs - 1000,
        issuedMs + 60_000,
        (e) => e.approvalId === approval.approvalId && e.grantId === undefined,
      )),
    );
  events.sort((a, b) => b.time.localeCompare(a.time) || b.eventId.localeCompare(a.eventId));
  return approval ? { events, approval } : { events };
}
