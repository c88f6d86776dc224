// When a UTC day counts as closed for its summary, and when an audit write is late for its day: the two
// times the sweep, the report and the store's audit write agree on (day-summary.ts, docs/governance.md).
// A module of its own, so that the token path's store needs none of the summaries' code.
export const DAY_MS = 86_400_000;

/**
 * A day is summarised once this long after it ended: an audit event is stamped with its writer's clock and
 * stored before its request ends, so any event of the day has landed by then.
 */
export const SUMMARY_MARGIN_MS = 3_600_000;
/**
 * An audit write this long after its day ended is "late": the writer marks the day, and a summary that does
 * not cover the mark is read from its events again (the correction for what the margin does not catch).
 * Well inside the margin, so no write can fall between the two.
 */
export const LATE_AFTER_MS = 300_000;

export const isLateAuditWrite = (eventTime: string, nowMs: number): boolean =>
  nowMs >= Date.parse(`${eventTime.slice(0, 10)}T00:00:00.000Z`) + DAY_MS + LATE_AFTER_MS;
