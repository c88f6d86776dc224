// The placeholders of CONTRACT §2 (`${workload.name}`, `${grant.id}`, `${claim:NAME}`), shared by every
// provider that renders templates (session policies, repository lists). Every value must match a strict
// pattern, so no claim can change a template's structure, add a wildcard or smuggle in another placeholder.
import { TemplateValueRejected } from "../errors.ts";
import { claimsToTags } from "../identity/claims.ts";

/** What a substituted value may contain: no `*`, `?`, `$`, quotes, spaces or braces. */
export const TEMPLATE_VALUE_PATTERN = /^[A-Za-z0-9_.:/=+@-]{1,256}$/;

// Only the broker's own placeholders; IAM policy variables such as ${aws:username} pass through untouched.
export const PLACEHOLDER = /\$\{(workload\.name|grant\.id|claim:[^}]{1,128})\}/g;

export interface TemplateValues {
  workload: string;
  grantId: string;
  /** The subject token's claims; nested objects are addressed with '.' as in Cedar tags. */
  claims: Record<string, unknown>;
}

/** The value of one placeholder (without `${}`); throws TemplateValueRejected for a missing or unsafe one. */
export function placeholderLookup(
  values: TemplateValues,
  where = "a session policy",
): (placeholder: string) => string {
  const claims = claimsToTags(values.claims);
  return (placeholder) => {
    let value: string | undefined;
    if (placeholder === "workload.name") value = values.workload;
    else if (placeholder === "grant.id") value = values.grantId;
    else if (Object.hasOwn(claims, placeholder.slice("claim:".length)))
      value = claims[placeholder.slice("claim:".length)];
    if (value === undefined || !TEMPLATE_VALUE_PATTERN.test(value))
      throw new TemplateValueRejected(`\${${placeholder}}`, where);
    return value;
  };
}
