// A broker in several regions (CONTRACT §16): which region sets DynamoDB's multi-Region strong consistency
// (MRSC) allows, checked at synth with the reason, so `cdk synth` refuses what CloudFormation would only
// refuse half way through a deployment. MRSC, as AWS documents it (Global tables, multi-Region strong
// consistency): exactly three regions — three replicas, or two replicas and a witness — all in one region
// set; no transactions (the broker uses single-item conditional writes only), and no TTL or local
// secondary indexes (the broker's table has none of the latter; see docs/deploy.md for TTL).

/** The regions of a multi-region broker: the table's primary, its other replicas, and an optional witness. */
export interface BrokerRegions {
  /** The region whose stack creates the global table and the primary multi-Region key. */
  readonly primary: string;
  /** The other regions that run the broker (each a replica of the table and of the key). */
  readonly replicas: readonly string[];
  /** A region that only votes for the table (no data, no broker): with exactly one replica. */
  readonly witness?: string;
}

/** MRSC's region sets (aws-cdk-lib 2.276 checks the same ones). */
export const MRSC_REGION_SETS: Readonly<Record<string, readonly string[]>> = {
  US: ["us-east-1", "us-east-2", "us-west-2"],
  EU: ["eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1"],
  AP: ["ap-northeast-1", "ap-northeast-2", "ap-northeast-3"],
};

const setOf = (region: string) =>
  Object.entries(MRSC_REGION_SETS).find(([, regions]) => regions.includes(region))?.[0];

/** Every reason MRSC cannot take this region set; empty when it can. */
export function mrscProblems(r: BrokerRegions): string[] {
  const problems: string[] = [];
  const all = [r.primary, ...r.replicas, ...(r.witness ? [r.witness] : [])];
  if (new Set(all).size !== all.length)
    problems.push(
      `a region is named twice (${all.join(", ")}): each region holds one replica or the witness`,
    );
  if (r.witness && r.replicas.length !== 1)
    problems.push(
      `with a witness, MRSC takes exactly two replicas (the primary and one more); ${1 + r.replicas.length} given`,
    );
  if (!r.witness && r.replicas.length !== 2)
    problems.push(
      `without a witness, MRSC takes exactly three replicas (the primary and two more); ${1 + r.replicas.length} given — or give a witness with one replica`,
    );
  const sets = new Set<string>();
  for (const region of all) {
    const set = setOf(region);
    if (!set)
      problems.push(
        `${region} is in no MRSC region set (US: ${MRSC_REGION_SETS["US"]!.join(", ")}; EU: ${MRSC_REGION_SETS["EU"]!.join(", ")}; AP: ${MRSC_REGION_SETS["AP"]!.join(", ")})`,
      );
    else sets.add(set);
  }
  if (sets.size > 1)
    problems.push(
      `MRSC keeps all regions in one region set, but these span ${[...sets].sort().join(" and ")}`,
    );
  return problems;
}

/** Parses `-c regions=PRIMARY,REPLICA,… [-c witness=REGION]` of the CDK app. */
export function regionsFromContext(regions: string, witness?: string): BrokerRegions {
  const list = regions
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0)
    throw new UnsupportedRegions(["-c regions: give PRIMARY,REPLICA,… (the first is the primary)"]);
  for (const region of [...list, ...(witness ? [witness] : [])])
    if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
      throw new UnsupportedRegions([`${region} is not a region name`]);
  return { primary: list[0]!, replicas: list.slice(1), ...(witness ? { witness } : {}) };
}

export class UnsupportedRegions extends Error {
  constructor(readonly problems: string[]) {
    super(
      `regions: DynamoDB multi-Region strong consistency cannot take this region set: ${problems.join("; ")}`,
    );
    this.name = "UnsupportedRegions";
  }
}

/** Refuses (throws UnsupportedRegions) a region set MRSC cannot take. */
export function assertMrscRegions(r: BrokerRegions): void {
  const problems = mrscProblems(r);
  if (problems.length > 0) throw new UnsupportedRegions(problems);
}
