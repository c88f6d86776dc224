// The whole of `policy impact` over the store (CONTRACT §14): the period's decisions streamed page by page
// through the accumulator, the active grants the sweep would revoke on deploy, and the exceptions the
// proposal adds, removes or lets lapse soon.
import type { CompiledPolicies } from "../policy/policy-set.ts";
import type { GrantStore } from "../store.ts";
import { type DecisionImpact, ImpactAccumulator } from "./impact.ts";
import { type ProposedDeps, type RevokedOnDeploy, revokedOnDeploy } from "./revoked-on-deploy.ts";

const DAY_MS = 86_400_000;
/** Audit events read per page: the most the replay holds at once. */
export const IMPACT_PAGE_SIZE = 1_000;

export interface PolicyImpact extends DecisionImpact {
  activeGrants: { revokedOnDeploy: RevokedOnDeploy[] };
  /** Exception ids (the policies' @id): the proposal's against the deployed config's. */
  exceptions: { added: string[]; removed: string[]; expiringWithin14Days: string[] };
  deployedVersion: string;
  proposedVersion: string;
}

const exceptionIds = (policies: CompiledPolicies) =>
  Object.values(policies.policies)
    .filter((p) => p.exception !== undefined)
    .map((p) => p.id)
    .sort();

export function exceptionChanges(
  deployed: CompiledPolicies,
  proposed: CompiledPolicies,
  nowMs: number,
): PolicyImpact["exceptions"] {
  const before = new Set(exceptionIds(deployed));
  const after = exceptionIds(proposed);
  return {
    added: after.filter((id) => !before.has(id)),
    removed: [...before].filter((id) => !after.includes(id)),
    expiringWithin14Days: after.filter((id) => {
      const at = proposed.policies[id]?.expiresAt;
      return at !== undefined && at > nowMs && at <= nowMs + 14 * DAY_MS;
    }),
  };
}

export async function policyImpactFromStore(
  store: GrantStore,
  deployed: ProposedDeps,
  proposed: ProposedDeps,
  period: { sinceMs: number; untilMs: number },
  nowMs: number,
  pageSize = IMPACT_PAGE_SIZE,
): Promise<PolicyImpact> {
  const accumulator = new ImpactAccumulator(deployed, proposed);
  let cursor: string | undefined;
  do {
    const page = await store.listAudit({ ...period, ...(cursor ? { cursor } : {}), limit: pageSize });
    for (const event of page.items) accumulator.add(event);
    cursor = page.cursor;
  } while (cursor);
  return {
    ...accumulator.result(period),
    activeGrants: { revokedOnDeploy: await revokedOnDeploy(store, proposed, nowMs) },
    exceptions: exceptionChanges(deployed.policies, proposed.policies, nowMs),
    deployedVersion: deployed.configVersion,
    proposedVersion: proposed.configVersion,
  };
}

/** Whether anything would move: what `--fail-on-change` exits 3 on. */
export function impactChanges(impact: PolicyImpact): boolean {
  return impact.allowToDeny > 0 || impact.denyToAllow > 0 || impact.activeGrants.revokedOnDeploy.length > 0;
}
