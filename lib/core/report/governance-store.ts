// What the report, the console and the sweep keep beside the audit trail: one summary item per closed UTC
// day (day-summary.ts) and the record of the last sweep run. Implemented on DynamoDB in
// lib/aws/governance-store.ts; a store without it makes the report read every event of the period.

/** A day's item as stored: the summary (unparsed), and the late-event marks it does or does not cover. */
export interface StoredDay {
  /** The summary's JSON, absent on an item that only carries late marks (written before any summary). */
  summary?: unknown;
  /** Late events recorded for the day (audit writes that landed after the day was closed). */
  late: number;
  /** The `late` count the summary was computed after: the summary is current when both are equal. */
  coveredLate: number;
}

/** The last sweep run, for the console's overview. */
export interface SweepRun {
  startedAt: string;
  finishedAt: string;
  complete: boolean;
  errors: number;
  /** Age of the oldest grant still due when it stopped: the lag. */
  oldestDueAgeSeconds?: number;
  expired: number;
  revoked: number;
  daySummaries: number;
}

export interface GovernanceStore {
  /** The stored items of the days from `firstDay` to `lastDay` (yyyy-mm-dd), read by key. */
  getDays(firstDay: string, lastDay: string): Promise<Map<string, StoredDay>>;
  /**
   * Writes a day's summary if its item is still as `seen` (absent: no item yet), covering `seen.late`
   * late marks. False when another write came first or the summary is too large to store (the day is then
   * read from its events).
   */
  putDaySummary(day: string, summary: unknown, seen: StoredDay | undefined): Promise<boolean>;
  putSweepRun(run: SweepRun): Promise<void>;
  getSweepRun(): Promise<SweepRun | undefined>;
}
