// The token path's part of CONTRACT §13: the CI task a verified token names, recorded on its grant, and
// whether that task has ended (one read, in flight while the decision is made).
import type { BrokerDeps } from "../deps.ts";
import { DependencyUnavailable } from "../errors.ts";
import type { VerifiedSubject } from "../identity/verifier.ts";
import { type TaskKey, taskKeyOf } from "./task-keys.ts";

/** The reason a denial for an ended task records. */
export const TASK_ENDED_DENIAL = "task ended";

export interface TaskCheck {
  key: TaskKey;
  /** Resolves true when the task has ended; rejects with a 503 when the store cannot say. */
  ended: Promise<boolean>;
  /** The grant fields that let the task's end find the grant. */
  grantFields: { taskRun: string; taskJob?: string };
}

/** Undefined when the token's issuer is no CI system's under `events`, or the token names no run. */
export function checkTask(
  deps: Pick<BrokerDeps, "config" | "store" | "clock">,
  subject: VerifiedSubject,
): TaskCheck | undefined {
  const key = taskKeyOf(deps.config.events, subject.issuer.name, subject.claims);
  if (!key) return undefined;
  const store = deps.store.events;
  const ended = store
    ? store.isTaskEnded(key, deps.clock.now()).catch((err: unknown) => {
        throw new DependencyUnavailable("grant store", (err as Error).name);
      })
    : Promise.resolve(false);
  // Started before it is awaited: a request that fails earlier must not leave an unhandled rejection.
  ended.catch(() => undefined);
  return { key, ended, grantFields: { taskRun: key.run, ...(key.job ? { taskJob: key.job } : {}) } };
}
