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

/** A per-call cost: the median batch, and the 10th percentile (the call itself, with little interference). */
export interface CallCost {
  median: number;
  p10: number;
}

/**
 * Cost of one call in microseconds. Calls run in small batches (about 2 ms each, so that few are cut by the
 * scheduler on a busy machine) until `minMs` has passed. The figure is the median of the batch means; the
 * 10th percentile is reported beside it as the cost of the call itself on a quiet machine.
 */
export function microsPerCall(fn: () => void, options: { minMs?: number } = {}): CallCost {
  const minMs = options.minMs ?? 2_000;
  const batch = batchSize(() => fn());
  const means: number[] = [];
  const until = performance.now() + minMs;
  while (performance.now() < until || means.length < 20) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) fn();
    means.push(((performance.now() - t0) * 1000) / batch);
  }
  return { median: median(means), p10: quantile(means, 0.1) };
}

/** The same for an async call, awaited one at a time. */
export async function microsPerAsyncCall(
  fn: () => Promise<unknown>,
  options: { minMs?: number } = {},
): Promise<CallCost> {
  const minMs = options.minMs ?? 2_000;
  const t = performance.now();
  for (let i = 0; i < 50; i++) await fn();
  const batch = Math.max(1, Math.round(2 / ((performance.now() - t) / 50)));
  const means: number[] = [];
  const until = performance.now() + minMs;
  while (performance.now() < until || means.length < 20) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    means.push(((performance.now() - t0) * 1000) / batch);
  }
  return { median: median(means), p10: quantile(means, 0.1) };
}

/** Warms `fn` up and picks a batch size that takes about 2 ms. */
function batchSize(fn: () => void): number {
  const t = performance.now();
  let n = 0;
  while (performance.now() - t < 200 || n < 20) {
    fn();
    n++;
  }
  return Math.max(1, Math.round(2 / ((performance.now() - t) / n)));
}

/**
 * Two calls measured side by side in one process: batches (~2 ms each) alternate between `a` and `b` until
 * `minMs` has passed, so machine noise falls on both alike. Each side's figure is the median batch mean.
 */
export async function pairedMicros(
  a: () => unknown,
  b: () => unknown,
  options: { minMs?: number } = {},
): Promise<{ a: CallCost; b: CallCost }> {
  const minMs = options.minMs ?? 2_000;
  const sizeOf = async (fn: () => unknown) => {
    const t = performance.now();
    let n = 0;
    while (performance.now() - t < 100 || n < 20) {
      const r = fn();
      if (r instanceof Promise) await r;
      n++;
    }
    return Math.max(1, Math.round(2 / ((performance.now() - t) / n)));
  };
  const batchA = await sizeOf(a);
  const batchB = await sizeOf(b);
  const meansA: number[] = [];
  const meansB: number[] = [];
  const batch = async (fn: () => unknown, size: number, into: number[]) => {
    const t0 = performance.now();
    for (let i = 0; i < size; i++) {
      // A synchronous call is not awaited: a microtask per call would add the same cost to both sides.
      const r = fn();
      if (r instanceof Promise) await r;
    }
    into.push(((performance.now() - t0) * 1000) / size);
  };
  const until = performance.now() + minMs;
  while (performance.now() < until || meansA.length < 20) {
    await batch(a, batchA, meansA);
    await batch(b, batchB, meansB);
  }
  return {
    a: { median: median(meansA), p10: quantile(meansA, 0.1) },
    b: { median: median(meansB), p10: quantile(meansB, 0.1) },
  };
}
