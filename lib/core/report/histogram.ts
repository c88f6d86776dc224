// An exact, mergeable histogram: each distinct value with how many times it occurred. Days merge by adding
// counts, and the median read from the merged counts is the median of every value (no bucketing error).
export type Histogram = Record<string, number>;

export function addValue(h: Histogram, value: number, times = 1): void {
  const key = String(value);
  h[key] = (h[key] ?? 0) + times;
}

export function mergeInto(into: Histogram, from: Histogram): void {
  for (const [key, n] of Object.entries(from)) into[key] = (into[key] ?? 0) + n;
}

const sortedEntries = (h: Histogram): [number, number][] =>
  Object.entries(h)
    .map(([k, n]) => [Number(k), n] as [number, number])
    .filter(([, n]) => n > 0)
    .sort((a, b) => a[0] - b[0]);

const total = (h: Histogram): number => Object.values(h).reduce((s, n) => s + n, 0);

/** The value at 0-based rank `rank` of the sorted values. */
function atRank(entries: [number, number][], rank: number): number {
  let seen = 0;
  for (const [value, n] of entries) {
    seen += n;
    if (rank < seen) return value;
  }
  throw new RangeError("rank outside the histogram");
}

/** The median exactly as activity.ts `median` computes it over the values themselves; null when empty. */
export function histogramMedian(h: Histogram): number | null {
  const n = total(h);
  if (n === 0) return null;
  const entries = sortedEntries(h);
  const mid = Math.floor(n / 2);
  return n % 2 === 1 ? atRank(entries, mid) : (atRank(entries, mid - 1) + atRank(entries, mid)) / 2;
}

export function histogramMax(h: Histogram): number | null {
  const entries = sortedEntries(h);
  return entries.length === 0 ? null : entries[entries.length - 1]![0];
}
