// RFC 7009 self-release: a workload ends its own grant when its task is done. The caller proves who it
// is with its subject token; only a grant held by that same workload is revoked.
import type { BrokerDeps } from "./deps.ts";
import { DependencyUnavailable, MalformedParameter, SubjectTokenInvalid } from "./errors.ts";
import { GRANT_ID_PATTERN } from "./ids.ts";
import type { Params } from "./params.ts";
import { revokeGrant } from "./revoke-grant.ts";
import { required, SUBJECT_TOKEN_TYPES } from "./token-request.ts";

export async function releaseGrant(deps: BrokerDeps, params: Params): Promise<Record<string, never>> {
  const token = required(params, "token");
  const subjectToken = required(params, "subject_token");
  const type = params.get("subject_token_type");
  if (type !== undefined && !SUBJECT_TOKEN_TYPES.includes(type))
    throw new MalformedParameter("subject_token_type", "is not supported");
  const subject = await deps.verifier.verify(subjectToken);
  const workload = deps.workloads.match(subject.issuer.name, subject.subject);
  if (!workload) throw new SubjectTokenInvalid("subject is not a registered workload");

  let grantId: string | undefined;
  if (GRANT_ID_PATTERN.test(token)) grantId = token;
  else grantId = (await deps.accessTokens.verify(token, deps.clock.now()))?.jti;
  if (!grantId) return {};

  try {
    const grant = await deps.store.getGrant(grantId);
    if (grant && grant.workload === workload.name && grant.status === "active") {
      await revokeGrant(deps, grant, {
        reason: "released",
        kind: "revoke",
        outcome: "release",
        actor: workload.name,
      });
    }
  } catch (err) {
    throw new DependencyUnavailable("grant store", (err as Error).name);
  }
  return {};
}
