// What a GitHub or GitLab delivery asks of the broker (CONTRACT §13), read from its already authenticated
// body: nothing (ping, or an event it does not act on), or the end of a run or of one job. Pure.
import { githubRepoKeys, githubRunKey, gitlabRunKey, type TaskSource } from "./task-keys.ts";

/** A run (and optionally one job of it) whose grants end. */
export interface TaskRef {
  run: string;
  job?: string;
}

export type WebhookAction =
  | { kind: "ping" }
  | { kind: "ignored"; event: string }
  | { kind: "end"; source: TaskSource; event: string; tasks: TaskRef[] };

/** A signed body the broker cannot read as the event it claims to be: 400 invalid_request. */
export class MalformedEvent extends Error {
  constructor(readonly why: string) {
    super(why);
    this.name = "MalformedEvent";
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function id(v: unknown, what: string): string {
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  if (typeof v === "string" && /^[0-9]{1,20}$/.test(v)) return v;
  throw new MalformedEvent(`${what} must be a numeric id`);
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (!isObject(v)) throw new MalformedEvent(`${what} must be an object`);
  return v;
}

function githubRepoParts(payload: Record<string, unknown>): string[] {
  const repository = object(payload["repository"], "repository");
  const fullName = typeof repository["full_name"] === "string" ? repository["full_name"] : undefined;
  return githubRepoKeys({ id: id(repository["id"], "repository.id"), ...(fullName ? { fullName } : {}) });
}

/** `X-GitHub-Event` and the parsed body. */
export function githubAction(event: string, payload: unknown): WebhookAction {
  if (event === "ping") return { kind: "ping" };
  if (event !== "workflow_job" && event !== "workflow_run") return { kind: "ignored", event };
  const body = object(payload, "the body");
  if (body["action"] !== "completed") return { kind: "ignored", event };
  const repos = githubRepoParts(body);
  if (event === "workflow_job") {
    const job = object(body["workflow_job"], "workflow_job");
    const runId = id(job["run_id"], "workflow_job.run_id");
    const attempt = id(job["run_attempt"] ?? 1, "workflow_job.run_attempt");
    const url = typeof job["check_run_url"] === "string" ? job["check_run_url"] : "";
    const checkRun = id(url.split("/").pop(), "the last segment of workflow_job.check_run_url");
    return {
      kind: "end",
      source: "github",
      event,
      tasks: repos.map((repo) => ({ run: githubRunKey(repo, runId, attempt), job: checkRun })),
    };
  }
  const run = object(body["workflow_run"], "workflow_run");
  const runId = id(run["id"], "workflow_run.id");
  const attempt = id(run["run_attempt"] ?? 1, "workflow_run.run_attempt");
  return {
    kind: "end",
    source: "github",
    event,
    tasks: repos.map((repo) => ({ run: githubRunKey(repo, runId, attempt) })),
  };
}

/** The statuses after which a GitLab job or pipeline runs no more. */
const FINISHED = new Set(["success", "failed", "canceled"]);

/** `X-Gitlab-Event` and the parsed body. */
export function gitlabAction(event: string, payload: unknown): WebhookAction {
  if (event !== "Job Hook" && event !== "Pipeline Hook") return { kind: "ignored", event };
  const body = object(payload, "the body");
  if (event === "Job Hook") {
    if (!FINISHED.has(String(body["build_status"]))) return { kind: "ignored", event };
    const project = id(body["project_id"], "project_id");
    return {
      kind: "end",
      source: "gitlab",
      event,
      tasks: [
        {
          run: gitlabRunKey(project, id(body["pipeline_id"], "pipeline_id")),
          job: id(body["build_id"], "build_id"),
        },
      ],
    };
  }
  const attributes = object(body["object_attributes"], "object_attributes");
  if (!FINISHED.has(String(attributes["status"]))) return { kind: "ignored", event };
  const project = id(object(body["project"], "project")["id"], "project.id");
  return {
    kind: "end",
    source: "gitlab",
    event,
    tasks: [{ run: gitlabRunKey(project, id(attributes["id"], "object_attributes.id")) }],
  };
}
