// What the task-end and findings handlers keep (CONTRACT §13): deliveries already acted on, tasks already
// ended, and the live grants of a CI task. Implemented beside the grant store (lib/aws/event-store.ts).
import type { Grant } from "../grant.ts";
import type { Page } from "../store.ts";
import type { TaskKey } from "./task-keys.ts";

export interface EventStore {
  /**
   * Claims a delivery (a webhook's delivery id, a finding's id) for processing: false when it was already
   * handled within `keepMs`, or another process is handling it now. One conditional write.
   */
  claimDelivery(key: string, nowMs: number, keepMs: number): Promise<boolean>;
  /** Marks a claimed delivery handled; it is remembered for `keepMs` from now. */
  completeDelivery(key: string, nowMs: number, keepMs: number): Promise<void>;
  /** Forgets a claim whose handling failed, so that a redelivery acts. */
  releaseDelivery(key: string): Promise<void>;
  /** Live grants of a run, or of one job of it (a sparse index: cost follows the task's grants). */
  listLiveGrantsByTask(run: string, job: string | undefined, cursor?: string): Promise<Page<Grant>>;
  /** Records that a run (job undefined) or a job ended, until `untilMs`. */
  markTaskEnded(run: string, job: string | undefined, nowMs: number, untilMs: number): Promise<void>;
  /** Whether the run or the job of this key was ended and is still remembered at `nowMs`. One read. */
  isTaskEnded(key: TaskKey, nowMs: number): Promise<boolean>;
  /** The grant an AWS access key id was issued for (aws-sts), if the broker recorded it. */
  grantIdByAccessKey(accessKeyId: string): Promise<string | undefined>;
  /** Records the access key id of an aws-sts grant, for findings that name only the key. */
  recordAccessKey(accessKeyId: string, grantId: string, expiresAtMs: number): Promise<void>;
}
