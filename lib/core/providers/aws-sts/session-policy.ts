// Renders a task's session policy for one grant. Placeholders are substituted inside string values of the
// parsed policy only, and every value must match a strict pattern, so no claim can change the policy's
// JSON structure, widen a resource with a wildcard, or smuggle in another placeholder (CONTRACT §2).
import type { SessionPolicy } from "../../../config/schema.ts";
import { SessionPolicyTooLarge } from "../../errors.ts";
import { PLACEHOLDER, placeholderLookup, type TemplateValues } from "../placeholders.ts";

/** STS's limit on an inline session policy, counted on the minified JSON. */
export const SESSION_POLICY_MAX_CHARS = 2048;

/** Renders and minifies the policy; throws TemplateValueRejected or SessionPolicyTooLarge. */
export function renderSessionPolicy(task: string, policy: SessionPolicy, values: TemplateValues): string {
  const lookup = placeholderLookup(values);
  const rendered = substitute(policy, lookup);
  const text = JSON.stringify(rendered);
  if (text.length > SESSION_POLICY_MAX_CHARS) throw new SessionPolicyTooLarge(task, text.length);
  return text;
}

/** Walks the parsed policy, rewriting string values only; keys and structure are copied as they are. */
function substitute(node: unknown, lookup: (placeholder: string) => string): unknown {
  if (typeof node === "string")
    return node.replace(PLACEHOLDER, (_match, placeholder: string) => lookup(placeholder));
  if (Array.isArray(node)) return node.map((item) => substitute(item, lookup));
  if (node !== null && typeof node === "object") {
    // fromEntries defines own properties, so even a key named __proto__ stays a plain key.
    return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, substitute(value, lookup)]));
  }
  return node;
}
