// Small statistics and timing helpers shared by the figures.
import { performance } from "node:perf_hooks";

/** The q-quantile (0..1) of samples, by the nearest-rank method. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export const median = (samples: number[]): number => quantile(samples, 0.5);

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Milliseconds taken by one call of `fn`. */
export async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Mean cost of one synchronous call in microseconds: runs `fn` in batches until `minMs` has passed and
 * keeps the fastest batch mean, which is the figure least disturbed by GC and the other core.
 */
export function microsPerCall(fn: () => void, options: { batch?: number; minMs?: number } = {}): number {
  const batch = options.batch ?? 200;
  const minMs = options.minMs ?? 2_000;
  for (let i = 0; i < batch; i++) fn();
  const means: number[] = [];
  const until = performance.now() + minMs;
  while (performance.now() < until || means.length < 5) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    means.push(((performance.now() - t0) * 1000) / batch);
  }
  return Math.min(...means);
}

/** The same for an async call, awaited one at a time. */
export async function microsPerAsyncCall(
  fn: () => Promise<unknown>,
  options: { batch?: number; minMs?: number } = {},
): Promise<number> {
  const batch = options.batch ?? 200;
  const minMs = options.minMs ?? 2_000;
  for (let i = 0; i < batch; i++) await fn();
  const means: number[] = [];
  const until = performance.now() + minMs;
  while (performance.now() < until || means.length < 5) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    means.push(((performance.now() - t0) * 1000) / batch);
  }
  return Math.min(...means);
}
