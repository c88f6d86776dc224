// Bundled in place of the authorizer and of cedar-wasm for one series of the cold-start figure: the token
// function with a decision that costs nothing (allow, by the task's own permits), so that the series shows
// what the cold start would be if Cedar added nothing. Never used to answer a real request.
import type { Authorizer, DecisionResult } from "../lib/core/policy/authorizer.ts";
import type { CompiledPolicies } from "../lib/core/policy/policy-set.ts";

export function createAuthorizer(compiled: CompiledPolicies): Authorizer {
  const allow = (task: string): DecisionResult => ({
    allowed: true,
    policyIds: Object.entries(compiled.policies)
      .filter(([, p]) => p.effect === "permit" && p.scopedTask === task)
      .map(([id]) => id),
    reasons: [],
    erroredPolicyIds: [],
  });
  return {
    decide: (input) => allow(input.task.name),
    decideApproval: (input) => allow(input.task.name),
  };
}

/** Whatever else imports cedar-wasm must not load it (its module compiles the wasm at import). */
const unavailable = () => {
  throw new Error("cedar-wasm is not in this bench bundle");
};
export const policyToJson = unavailable;
export const preparsePolicySet = unavailable;
export const statefulIsAuthorized = unavailable;
export const isAuthorized = unavailable;
export const validate = unavailable;
export const checkParsePolicySet = unavailable;
export const policySetTextToParts = unavailable;
export const formatPolicies = unavailable;
export const getCedarVersion = unavailable;
