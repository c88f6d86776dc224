// One page of the console's grant list, read through the store's own paging (never the whole table):
// by the workload index when a workload is given (newest first), else the admin listing with its status
// filter. A task filter, and a status filter on the workload index, narrow each store page; a few store
// pages are read until the console's page is full, and the store's cursor is the link to the next one.
import type { Grant, GrantStatus } from "../../core/grant.ts";
import type { GrantStore } from "../../core/store.ts";

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
): Promise<{ items: Grant[]; cursor?: string }> {
  const matches = (g: Grant) =>
    (!filter.status || g.status === filter.status) && (!filter.task || g.task === filter.task);
  const narrowed = Boolean(filter.task || filter.status);
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

/** A grant's audit trail: its workload's events since just before it was issued, newest first. */
export async function grantTrail(store: GrantStore, grant: Grant, nowMs: number) {
  const events = [];
  let cursor: string | undefined;
  let reads = 0;
  do {
    const page = await store.listAudit({
      sinceMs: Date.parse(grant.issuedAt) - 60_000,
      untilMs: nowMs,
      workload: grant.workload,
      ...(cursor ? { cursor } : {}),
    });
    events.push(...page.items.filter((e) => e.grantId === grant.grantId));
    cursor = page.cursor;
  } while (cursor && ++reads < 50);
  return events.sort((a, b) => b.time.localeCompare(a.time) || b.eventId.localeCompare(a.eventId));
}
