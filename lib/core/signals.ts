// Signals (CONTRACT §3, §5): facts about a workload pushed by other systems — EDR posture, incident
// response, CI state — that policies read as `signal:<name>` tags. A change applies at once: the
// workload's active grants are re-decided and those now denied revoked before the call returns.
import { recordAudit } from "./audit-recorder.ts";
import type { Grant } from "./grant.ts";
import { newId } from "./ids.ts";
import { type ReevaluateDeps, reevaluateWorkload } from "./reevaluate.ts";

export const SIGNAL_NAME = /^[a-z][a-z0-9_.-]{0,63}$/;
/** Printable ASCII, at most 256 characters: a tag value a policy compares, never free text. */
export const SIGNAL_VALUE = /^[\x20-\x7e]{0,256}$/;

export type SignalChange = { workload: string; actor?: string } & (
  | { set: Record<string, string> }
  | { clear: string[] }
);

export interface SignalChangeResult {
  signals: Record<string, string>;
  evaluated: number;
  revoked: Grant[];
  /**
   * False while a grant of the workload was still `issuing`: it was decided before the change and could not
   * be re-decided yet. The workload's mark stays, so the next sweep re-decides it once it is active.
   */
  settled: boolean;
}

/** Throws TypeError naming the first bad name or value: a caller's mistake, reported before any write. */
export function checkSignalChange(change: SignalChange): void {
  const names = "set" in change ? Object.keys(change.set) : change.clear;
  if (names.length === 0) throw new TypeError("name at least one signal");
  for (const name of names)
    if (!SIGNAL_NAME.test(name))
      throw new TypeError(`signal name ${JSON.stringify(name)} must match ${SIGNAL_NAME.source}`);
  if ("set" in change)
    for (const [name, value] of Object.entries(change.set))
      if (!SIGNAL_VALUE.test(value))
        throw new TypeError(`signal ${name}: the value must be at most 256 printable ASCII characters`);
}

export async function changeSignals(deps: ReevaluateDeps, change: SignalChange): Promise<SignalChangeResult> {
  checkSignalChange(change);
  const now = deps.clock.now();
  // The intent is durable first: if this process dies before re-evaluating, the next sweep finishes it.
  await deps.store.markReevaluation(change.workload, now);
  const signals =
    "set" in change
      ? await deps.store.setSignals(change.workload, change.set, now)
      : await deps.store.clearSignals(change.workload, change.clear, now);
  await recordAudit(deps.store, deps.log, {
    eventId: newId(now),
    time: new Date(now).toISOString(),
    kind: "signal",
    outcome: "change",
    workload: change.workload,
    reasons:
      "set" in change
        ? Object.entries(change.set).map(([k, v]) => `set ${k}=${v}`)
        : change.clear.map((k) => `cleared ${k}`),
    configVersion: deps.configVersion,
    ...(change.actor ? { actor: change.actor } : {}),
  });
  const result = await reevaluateWorkload(deps, change.workload, {
    kind: "signal",
    ...(change.actor ? { actor: change.actor } : {}),
  });
  return { signals, evaluated: result.evaluated, revoked: result.revoked, settled: result.settled };
}
