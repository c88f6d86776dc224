// How the sweep-lag alarm looks at its metric, derived from the sweep schedule. The sweep publishes one
// SweepLagSeconds point per run, so a period shorter than the schedule's interval has no data in most periods,
// and with missing data breaching (a sweep that stopped reporting must alarm) the alarm would fire on every
// quiet period. EventBridge starts rate schedules at no fixed offset and a run may land a little late, so
// the period spans two intervals: every period then holds at least one run of a sweep that is running.
import { Duration } from "aws-cdk-lib";
import { TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import type { Schedule } from "aws-cdk-lib/aws-events";

export interface SweepLagWindow {
  readonly period: Duration;
  readonly treatMissingData: TreatMissingData;
}

/** The shortest period: five one-minute runs, as with the default schedule. */
const MIN_PERIOD = Duration.minutes(5);
/** CloudWatch allows a period times evaluation periods of at most one day. */
const MAX_PERIOD = Duration.days(1);

const UNIT_MINUTES: Record<string, number> = { minute: 1, hour: 60, day: 24 * 60 };

/** The interval of a `rate(N unit)` schedule in minutes; undefined for a cron schedule or an unresolved token. */
export function rateMinutes(schedule: Schedule): number | undefined {
  const m = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(schedule.expressionString);
  return m ? Number(m[1]) * UNIT_MINUTES[m[2]!]! : undefined;
}

export function sweepLagWindow(schedule: Schedule): SweepLagWindow {
  const interval = rateMinutes(schedule);
  // A cron schedule's gaps are unknown (and may vary: business hours only, say), and a rate slower than
  // twelve hours leaves no period that must hold a run. Then only a reported lag can alarm; missing data
  // cannot tell a stopped sweep from a quiet night.
  if (interval === undefined || interval * 2 > MAX_PERIOD.toMinutes())
    return {
      period: interval === undefined ? MIN_PERIOD : MAX_PERIOD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    };
  return {
    period: Duration.minutes(Math.max(MIN_PERIOD.toMinutes(), interval * 2)),
    treatMissingData: TreatMissingData.BREACHING,
  };
}
