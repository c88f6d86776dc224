// The workload inventory: a verified (issuer, subject) pair maps to the first registered workload that
// matches it, in config order. Globs: `*` stays inside one ':'-separated segment, `**` crosses segments.
import type { WorkloadConfig } from "../../config/schema.ts";

export interface WorkloadMatcher {
  match(issuerName: string, subject: string): WorkloadConfig | undefined;
}

export function subjectGlobToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*") {
      if (glob[i + 1] === "*") {
        source += ".*";
        i++;
      } else source += "[^:]*";
    } else source += ch.replace(/[\\^$.|?+()[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

export function createWorkloadMatcher(workloads: WorkloadConfig[]): WorkloadMatcher {
  const compiled = workloads.map((w) => ({
    workload: w,
    pattern: w.subject.includes("*") ? subjectGlobToRegExp(w.subject) : undefined,
  }));
  return {
    match(issuerName, subject) {
      for (const { workload, pattern } of compiled) {
        if (workload.issuer !== issuerName) continue;
        if (pattern ? pattern.test(subject) : workload.subject === subject) return workload;
      }
      return undefined;
    },
  };
}
