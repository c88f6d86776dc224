// How long a grant lasts: the request's duration_seconds, defaulting to and capped by the task's maximum,
// never shorter than the provider allows (STS refuses sessions under 900 s).
import type { TaskConfig } from "../config/schema.ts";
import { DurationOutOfRange } from "./errors.ts";
import { STS_MIN_DURATION_SECONDS } from "./providers/aws-sts/limits.ts";

const MIN_DURATION_SECONDS: Record<TaskConfig["provider"], number> = {
  "aws-sts": STS_MIN_DURATION_SECONDS,
  jwt: 60,
  postgres: 300,
  github: 60,
  secret: 60,
};

export function grantedDuration(task: TaskConfig, requestedSeconds: number | undefined): number {
  const min = MIN_DURATION_SECONDS[task.provider];
  const max = task.maxDurationSeconds;
  const duration = requestedSeconds ?? max;
  if (duration < min || duration > max) throw new DurationOutOfRange(min, max);
  return duration;
}
