// Which of the config's databases a region's stack reaches (CONTRACT §16, databases[].regions): only its
// token, revoke and sweep functions get the VPC and the admin secrets of those databases. A database that
// names a region the deployment does not run in could never be reached there, so synth refuses it.
import { type DatabaseConfig, reachesDatabase } from "../config/postgres-schema.ts";
import type { BrokerRegions } from "./regions.ts";

/**
 * Every `databases[].regions` entry outside the regions that run the broker (a witness runs none);
 * `deployed` undefined (a stack whose region is not known at synth) checks nothing.
 */
export function databaseRegionProblems(
  databases: readonly DatabaseConfig[],
  deployed: readonly string[] | undefined,
): string[] {
  if (!deployed) return [];
  const problems: string[] = [];
  databases.forEach((db, i) => {
    for (const region of db.regions ?? [])
      if (!deployed.includes(region))
        problems.push(
          `databases.${i}.regions: database ${db.name} names ${region}, where this deployment runs no broker (its regions: ${deployed.join(", ")}); no function there could reach it`,
        );
  });
  return problems;
}

/** The regions that run the broker: with `regions`, the primary and replicas; else the stack's own, when known. */
export function deployedRegions(
  regions: BrokerRegions | undefined,
  stackRegion: string | undefined,
): string[] | undefined {
  if (regions) return [regions.primary, ...regions.replicas];
  return stackRegion ? [stackRegion] : undefined;
}

/** The databases this region's functions reach; a region unknown at synth reaches them all. */
export const databasesReachedIn = (
  databases: readonly DatabaseConfig[],
  region: string | undefined,
): DatabaseConfig[] => databases.filter((db) => reachesDatabase(db, region));
