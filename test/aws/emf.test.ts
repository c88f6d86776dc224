import { describe, expect, it } from "vitest";
import { emfLine } from "../../lib/aws/emf.ts";

describe("emfLine", () => {
  it("renders one CloudWatch Embedded Metric Format line with values, units and dimensions", () => {
    const line = emfLine(
      { SweepLagSeconds: { value: 42, unit: "Seconds" }, SweepErrors: { value: 0, unit: "Count" } },
      { timestampMs: 1_800_000_000_000, dimensions: { FunctionName: "sweep" } },
    );
    expect(line.endsWith("\n")).toBe(true);
    expect(line.trim().includes("\n")).toBe(false);
    expect(JSON.parse(line)).toEqual({
      FunctionName: "sweep",
      SweepLagSeconds: 42,
      SweepErrors: 0,
      _aws: {
        Timestamp: 1_800_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: "credbroker",
            Dimensions: [["FunctionName"]],
            Metrics: [
              { Name: "SweepLagSeconds", Unit: "Seconds" },
              { Name: "SweepErrors", Unit: "Count" },
            ],
          },
        ],
      },
    });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])("refuses a non-finite value (%s)", (value) => {
    expect(() => emfLine({ X: { value, unit: "Count" } }, { timestampMs: 0 })).toThrow(TypeError);
  });
});
