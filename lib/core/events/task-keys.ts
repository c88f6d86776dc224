// Which CI task a grant belongs to, as keys the store can look up (CONTRACT §13): a run key (GitHub: the
// repository, run id and attempt; GitLab: the project and pipeline) and, within it, a job key (GitHub's
// check run, GitLab's job). Written with the grant at issue, read back by the webhook that ends the task and
// by the token path, which refuses a token naming a task already ended. Pure: claims in, keys out.
import type { EventsConfig } from "../../config/events-schema.ts";

export type TaskSource = "github" | "gitlab";

export interface TaskKey {
  source: TaskSource;
  /** The run (GitHub) or pipeline (GitLab) the token was issued in. */
  run: string;
  /** The job within it, when the token names one. */
  job?: string;
}

/** A claim value as text: CI systems send ids as strings or numbers; anything else names nothing. */
function text(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

const seg = (s: string) => encodeURIComponent(s);

/** GitHub's repository part of a key: its id when known, else its full name (tokens may carry either). */
export const githubRepoKeys = (repository: { id?: string; fullName?: string }): string[] => [
  ...(repository.id ? [`id:${seg(repository.id)}`] : []),
  ...(repository.fullName ? [`name:${seg(repository.fullName.toLowerCase())}`] : []),
];

export const githubRunKey = (repo: string, runId: string, attempt: string): string =>
  `gh/${repo}/${seg(runId)}/${seg(attempt)}`;

export const gitlabRunKey = (projectId: string, pipelineId: string): string =>
  `gl/${seg(projectId)}/${seg(pipelineId)}`;

/** Which CI system speaks for tokens of this issuer, if any. */
export function sourceOfIssuer(events: EventsConfig | undefined, issuer: string): TaskSource | undefined {
  if (events?.github?.issuers.includes(issuer)) return "github";
  if (events?.gitlab?.issuers.includes(issuer)) return "gitlab";
  return undefined;
}

/** The task a verified token belongs to; undefined when its issuer is no CI system's or it names no run. */
export function taskKeyOf(
  events: EventsConfig | undefined,
  issuer: string,
  claims: Record<string, unknown>,
): TaskKey | undefined {
  const source = sourceOfIssuer(events, issuer);
  if (source === "github") {
    const id = text(claims["repository_id"]);
    const name = text(claims["repository"]);
    const repo = id ? githubRepoKeys({ id })[0] : name ? githubRepoKeys({ fullName: name })[0] : undefined;
    const runId = text(claims["run_id"]);
    const attempt = text(claims["run_attempt"]);
    if (!repo || !runId || !attempt) return undefined;
    const job = text(claims["check_run_id"]);
    return { source, run: githubRunKey(repo, runId, attempt), ...(job ? { job: seg(job) } : {}) };
  }
  if (source === "gitlab") {
    const project = text(claims["project_id"]);
    const pipeline = text(claims["pipeline_id"]);
    if (!project || !pipeline) return undefined;
    const job = text(claims["job_id"]);
    return { source, run: gitlabRunKey(project, pipeline), ...(job ? { job: seg(job) } : {}) };
  }
  return undefined;
}

/** The longest a token of this source's issuers is accepted after issue: how long an ended task stays ended. */
export function endedForMs(
  events: EventsConfig | undefined,
  issuers: { name: string; maxTokenAgeSeconds: number; clockToleranceSeconds: number }[],
  source: TaskSource,
): number {
  const names = events?.[source]?.issuers ?? [];
  const ages = issuers
    .filter((i) => names.includes(i.name))
    .map((i) => (i.maxTokenAgeSeconds + i.clockToleranceSeconds) * 1000);
  return Math.max(0, ...ages);
}
