// CloudWatch Embedded Metric Format: one JSON log line that CloudWatch turns into metrics, so a Lambda
// publishes metrics without a PutMetricData call (and without the permission for it).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html

export type EmfUnit = "Count" | "Seconds" | "Milliseconds" | "None";

export interface EmfMetric {
  value: number;
  unit: EmfUnit;
}

export const METRIC_NAMESPACE = "credbroker";

/** Renders one EMF line (with trailing newline). Dimensions are optional; values must be finite numbers. */
export function emfLine(
  metrics: Record<string, EmfMetric>,
  options: {
    timestampMs: number;
    namespace?: string;
    dimensions?: Record<string, string>;
    properties?: Record<string, unknown>;
  },
): string {
  const dimensions = options.dimensions ?? {};
  const values: Record<string, number> = {};
  for (const [name, m] of Object.entries(metrics)) {
    if (!Number.isFinite(m.value)) throw new TypeError(`metric ${name} is not a finite number`);
    values[name] = m.value;
  }
  const doc = {
    ...options.properties,
    ...dimensions,
    ...values,
    _aws: {
      Timestamp: options.timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: options.namespace ?? METRIC_NAMESPACE,
          Dimensions: [Object.keys(dimensions)],
          Metrics: Object.entries(metrics).map(([Name, m]) => ({ Name, Unit: m.unit })),
        },
      ],
    },
  };
  return `${JSON.stringify(doc)}\n`;
}
