// The sweep-lag alarm's period and missing-data rule follow the sweep schedule, so that a slow schedule's
// quiet periods do not fire it and a stopped sweep still does.
import { Duration } from "aws-cdk-lib";
import { TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Schedule } from "aws-cdk-lib/aws-events";
import { describe, expect, it } from "vitest";
import { sweepLagWindow } from "../../lib/constructs/sweep-lag-window.ts";

describe("sweepLagWindow", () => {
  it.each([
    ["every minute (the default)", Schedule.rate(Duration.minutes(1)), 5, TreatMissingData.BREACHING],
    ["every 2 minutes", Schedule.rate(Duration.minutes(2)), 5, TreatMissingData.BREACHING],
    ["every 5 minutes", Schedule.rate(Duration.minutes(5)), 10, TreatMissingData.BREACHING],
    ["every 15 minutes", Schedule.rate(Duration.minutes(15)), 30, TreatMissingData.BREACHING],
    ["every hour", Schedule.rate(Duration.hours(1)), 120, TreatMissingData.BREACHING],
    ["every 12 hours", Schedule.rate(Duration.hours(12)), 1440, TreatMissingData.BREACHING],
    [
      "a rate written as an expression",
      Schedule.expression("rate(10 minutes)"),
      20,
      TreatMissingData.BREACHING,
    ],
    ["every 13 hours", Schedule.rate(Duration.hours(13)), 1440, TreatMissingData.NOT_BREACHING],
    ["every 2 days", Schedule.rate(Duration.days(2)), 1440, TreatMissingData.NOT_BREACHING],
    ["a cron schedule", Schedule.cron({ minute: "0/10" }), 5, TreatMissingData.NOT_BREACHING],
  ])("with a sweep %s: %d-minute periods, missing data %s", (_label, schedule, minutes, missing) => {
    const window = sweepLagWindow(schedule);
    expect(window.period.toMinutes()).toBe(minutes);
    expect(window.treatMissingData).toBe(missing);
  });
});
