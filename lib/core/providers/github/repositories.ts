// A github task's repositories, checked twice: the template when the config loads (its literal parts), and
// the rendered names for each grant, before anything is recorded (CONTRACT §8.1). A claim can only fill a
// placeholder with a value of the §2 pattern, so it can never add a wildcard, a second owner or a path.
import { RepositoryRejected } from "../../errors.ts";
import { PLACEHOLDER, placeholderLookup, type TemplateValues } from "../placeholders.ts";

/** GitHub's limit on the repositories of one installation token. */
export const MAX_REPOSITORIES = 500;
/** A GitHub account login: letters, digits and single hyphens, at most 39 characters. */
export const GITHUB_OWNER_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
/** A repository name as GitHub allows it (without the owner). */
export const REPOSITORY_NAME_PATTERN = /^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/;

/** The problem with a repository template, or undefined when it may render to a valid repository. */
export function repositoryTemplateProblem(template: string, owner: string): string | undefined {
  const literal = template.replace(PLACEHOLDER, "");
  if (literal.includes("*")) return "must not contain a wildcard (*)";
  if (literal.includes("$"))
    return "has a placeholder other than ${workload.name}, ${grant.id}, ${claim:NAME}";
  if (!/^[A-Za-z0-9._/-]*$/.test(literal))
    return "may hold only letters, digits, '.', '_', '-', one '/' and placeholders";
  const parts = template.split("/");
  if (parts.length > 2) return `must be "name" or "owner/name"`;
  if (parts.length === 2) {
    const [ownerPart = "", namePart = ""] = parts;
    if (ownerPart === "" || namePart === "") return `must be "name" or "owner/name"`;
    if (!ownerPart.includes("${") && ownerPart.toLowerCase() !== owner.toLowerCase())
      return `names owner ${ownerPart}, but the task's owner is ${owner}`;
  }
  if (template === "") return "must not be empty";
  return undefined;
}

export type RepositoryValues = TemplateValues;

/**
 * Renders every template for one grant and returns the repository names without the owner, in order and
 * without repeats. Throws TemplateValueRejected (a placeholder's value breaks the §2 rule) or
 * RepositoryRejected (the result is not a repository of the task's owner).
 */
export function renderRepositories(
  templates: readonly string[],
  owner: string,
  values: RepositoryValues,
): string[] {
  const lookup = placeholderLookup(values, "a GitHub repository name");
  const names: string[] = [];
  const seen = new Set<string>();
  for (const template of templates) {
    const rendered = template.replace(PLACEHOLDER, (_m, placeholder: string) => lookup(placeholder));
    const parts = rendered.split("/");
    if (parts.length > 2) throw new RepositoryRejected("is not a repository name");
    if (parts.length === 2 && parts[0]!.toLowerCase() !== owner.toLowerCase())
      throw new RepositoryRejected("belongs to another owner");
    const name = parts.at(-1)!;
    if (name.includes("*")) throw new RepositoryRejected("contains a wildcard");
    if (!REPOSITORY_NAME_PATTERN.test(name)) throw new RepositoryRejected("is not a repository name");
    // GitHub compares names case-insensitively: two spellings are one repository.
    if (seen.has(name.toLowerCase())) continue;
    seen.add(name.toLowerCase());
    names.push(name);
  }
  return names;
}
