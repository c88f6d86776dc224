// The token path's decision, made while the workload's signals are still being read. Cedar decides on the
// signals the workload had at its last read in this process, and that answer stands if the read returns the
// same signals: a decision is a pure function of its input (the time included, taken once), so it is then
// the very answer deciding after the read would have given. When the signals differ, or none were seen
// yet, it is decided again on what was read. The signals themselves are never taken from memory.
import type { Authorizer, DecisionInput, DecisionResult } from "./authorizer.ts";

/** The signals each workload had at its last read in this process, for a bounded number of workloads. */
export interface SignalsSeen {
  get(workload: string): Record<string, string> | undefined;
  set(workload: string, signals: Record<string, string>): void;
}

export function signalsSeen(limit = 1_000): SignalsSeen {
  const seen = new Map<string, Record<string, string>>();
  return {
    get: (workload) => seen.get(workload),
    set(workload, signals) {
      seen.delete(workload);
      // The least recently read goes first: a process that serves many workloads keeps the busy ones.
      if (seen.size >= limit) seen.delete(seen.keys().next().value!);
      seen.set(workload, signals);
    },
  };
}

export function sameSignals(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  for (const k of keys) if (!Object.hasOwn(b, k) || a[k] !== b[k]) return false;
  return true;
}

export async function decideAsSignalsArrive(
  authorizer: Authorizer,
  seen: SignalsSeen | undefined,
  workload: string,
  input: (signals: Record<string, string>) => DecisionInput,
  signalsRead: Promise<Record<string, string>>,
): Promise<DecisionResult> {
  const guess = seen?.get(workload) ?? {};
  let early: DecisionResult | undefined;
  try {
    early = authorizer.decide(input(guess));
  } catch {
    // Decided again below on what is read, and any error surfaces there.
  }
  const signals = await signalsRead;
  seen?.set(workload, signals);
  return early && sameSignals(signals, guess) ? early : authorizer.decide(input(signals));
}
