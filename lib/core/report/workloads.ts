// The inventory's debt: workloads nobody owns, disabled ones still configured, and registered ones that
// have not been granted anything for `idleDays` (candidates for removal).
import type { WorkloadConfig } from "../../config/schema.ts";
import type { IdleWorkload, WorkloadRef, WorkloadSection } from "./report-types.ts";

const DAY_MS = 86_400_000;

function ref(w: WorkloadConfig): WorkloadRef {
  return { name: w.name, issuer: w.issuer, subject: w.subject, owner: w.owner ?? null, disabled: w.disabled };
}

export function workloadSection(
  workloads: WorkloadConfig[],
  lastGrantAt: ReadonlyMap<string, string | undefined>,
  nowMs: number,
  idleDays: number,
): WorkloadSection {
  const idleSince = nowMs - idleDays * DAY_MS;
  const idle: IdleWorkload[] = [];
  for (const w of workloads) {
    // A disabled workload is reported as disabled; it cannot be granted anything, so "idle" adds nothing.
    if (w.disabled) continue;
    const last = lastGrantAt.get(w.name);
    if (last === undefined || Date.parse(last) < idleSince)
      idle.push({ ...ref(w), lastGrantAt: last ?? null });
  }
  return {
    total: workloads.length,
    idleDays,
    orphaned: workloads.filter((w) => !w.owner).map(ref),
    disabled: workloads.filter((w) => w.disabled).map(ref),
    idle,
  };
}
