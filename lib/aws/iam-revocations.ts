// RevocationWriter over the SDK's IAMClient: keeps the task role's credbroker-revocations inline policy.
// IAM has no conditional write for inline policies, so every change is read-modify-write followed by a read
// that verifies it landed, retried if a rival writer overwrote it. Within one process, changes to one role
// go through a queue that batches whatever arrived meanwhile into the next write, so many revocations at
// once on one role all land (and cost a few IAM calls, not one write each). Across processes the check can
// still pass before a rival's stale write lands, so the sweep re-checks each revocation later (`recheck`).
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import { DependencyUnavailable } from "../core/errors.ts";
import type { RevocationMode } from "../core/grant.ts";
import type { RevocationRecheck, RevocationWriter } from "../core/providers/aws-sts/ports.ts";
import {
  applyRevocationChanges,
  coverage,
  parseRevocationPolicy,
  REVOCATION_POLICY_NAME,
  type RevocationState,
} from "../core/providers/aws-sts/revocation-policy.ts";

export interface IamRevocationOptions {
  client: IAMClient;
  /**
   * The client that writes a given task role's policy; `client` when absent. A role in another account is
   * written through a role assumed there (the task's `revocationRoleArn`, see BrokerTargetRole).
   */
  clientFor?: (roleArn: string) => IAMClient;
  /** Read-modify-write rounds before giving up (the grant stays pending for the sweep). Default 5. */
  maxAttempts?: number;
  /** Size limit for the document; IAM's 10,240 by default. */
  maxChars?: number;
  /** Pause between rounds after a lost update; default 50 ms × round, jittered. */
  backoffMs?: (attempt: number) => number;
}

interface Change {
  /** `recheck`: an add only if the grant's deny is missing from the policy as first read. */
  kind: "add" | "remove" | "recheck";
  grantId: string;
  nowMs: number;
  resolve(result: RevocationRecheck): void;
  reject(err: unknown): void;
}

const roleName = (roleArn: string): string => roleArn.slice(roleArn.lastIndexOf("/") + 1);

export class IamRevocationWriter implements RevocationWriter {
  private readonly clientFor: (roleArn: string) => IAMClient;
  private readonly maxAttempts: number;
  private readonly maxChars: number | undefined;
  private readonly backoffMs: (attempt: number) => number;
  private readonly queues = new Map<string, Change[]>();

  constructor(options: IamRevocationOptions) {
    this.clientFor = options.clientFor ?? (() => options.client);
    this.maxAttempts = options.maxAttempts ?? 5;
    this.maxChars = options.maxChars;
    this.backoffMs = options.backoffMs ?? ((attempt) => 50 * attempt * (0.5 + Math.random()));
  }

  async revoke(roleArn: string, grantId: string, nowMs: number): Promise<RevocationMode> {
    return (await this.enqueue(roleArn, "add", grantId, nowMs)).mode;
  }

  recheck(roleArn: string, grantId: string, revokedAtMs: number): Promise<RevocationRecheck> {
    return this.enqueue(roleArn, "recheck", grantId, revokedAtMs);
  }

  async prune(roleArn: string, grantId: string, nowMs: number): Promise<void> {
    await this.enqueue(roleArn, "remove", grantId, nowMs);
  }

  private enqueue(
    roleArn: string,
    kind: Change["kind"],
    grantId: string,
    nowMs: number,
  ): Promise<RevocationRecheck> {
    return new Promise<RevocationRecheck>((resolve, reject) => {
      const queue = this.queues.get(roleArn);
      const change: Change = { kind, grantId, nowMs, resolve, reject };
      if (queue) {
        queue.push(change);
        return;
      }
      this.queues.set(roleArn, [change]);
      void this.drain(roleArn);
    });
  }

  /** Applies everything queued for the role, batch by batch, until the queue is empty. */
  private async drain(roleArn: string): Promise<void> {
    const queue = this.queues.get(roleArn)!;
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        const results = await this.applyBatch(roleArn, batch);
        for (const [i, change] of batch.entries()) change.resolve(results[i]!);
      } catch (err) {
        for (const change of batch) change.reject(err);
      }
    }
    this.queues.delete(roleArn);
  }

  private async applyBatch(roleArn: string, batch: Change[]): Promise<RevocationRecheck[]> {
    const role = roleName(roleArn);
    const client = this.clientFor(roleArn);
    let current = await this.read(client, role);
    // A re-check whose grant is still denied needs nothing written; one whose deny went missing is an add.
    const held = new Map<Change, RevocationMode>();
    for (const c of batch) {
      const covered = c.kind === "recheck" ? coverage(current.state, c.grantId, c.nowMs) : undefined;
      if (covered) held.set(c, covered);
    }
    const changes = batch.filter((c) => !held.has(c));
    const add = changes.filter((c) => c.kind !== "remove").map((c) => c.grantId);
    const remove = changes
      .filter((c) => c.kind === "remove" && !add.includes(c.grantId))
      .map((c) => c.grantId);
    const result = (modes: Map<Change, RevocationMode>): RevocationRecheck[] =>
      batch.map((c) =>
        held.has(c)
          ? { mode: held.get(c)!, reapplied: false }
          : { mode: modes.get(c)!, reapplied: c.kind === "recheck" },
      );
    if (changes.length === 0) return result(new Map());
    const nowMs = Math.max(...changes.map((c) => c.nowMs));
    let forceFallback = false;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      if (attempt > 1) current = await this.read(client, role);
      const applied = applyRevocationChanges(current.state, {
        add,
        remove,
        nowMs,
        forceFallback,
        ...(this.maxChars !== undefined ? { maxChars: this.maxChars } : {}),
      });
      let after = current.state;
      if (applied.document !== current.text) {
        if (applied.document === undefined) await this.delete(client, role);
        else if (!(await this.put(client, role, applied.document))) {
          // IAM counts every inline policy of the role against its limit: fall back to the issue-time deny.
          forceFallback = true;
          continue;
        }
        // Verify: a rival writer (another Lambda) may have read before our write and written after it.
        after = (await this.read(client, role)).state;
      }
      const modes = new Map<Change, RevocationMode | undefined>();
      for (const c of changes) {
        if (c.kind === "remove") {
          modes.set(c, "grant-listed");
          continue;
        }
        const covered = coverage(after, c.grantId, c.nowMs);
        // A revocation that made the role fall back is recorded as such, even if its id is listed too.
        modes.set(c, covered && applied.mode === "token-issue-time" ? "token-issue-time" : covered);
      }
      const removedGone = remove.every((id) => !after.grantIds.includes(id));
      if ([...modes.values()].every((m) => m !== undefined) && removedGone)
        return result(modes as Map<Change, RevocationMode>);
      await new Promise((r) => setTimeout(r, this.backoffMs(attempt)));
    }
    throw new DependencyUnavailable(
      "AWS IAM revocation list",
      `role ${role}: change not verified after ${this.maxAttempts} attempts`,
    );
  }

  private async read(
    client: IAMClient,
    role: string,
  ): Promise<{ text: string | undefined; state: RevocationState }> {
    let text: string | undefined;
    try {
      const out = await client.send(
        new GetRolePolicyCommand({ RoleName: role, PolicyName: REVOCATION_POLICY_NAME }),
      );
      // IAM returns the document URL-encoded (RFC 3986).
      text = out.PolicyDocument === undefined ? undefined : decodeURIComponent(out.PolicyDocument);
    } catch (err) {
      if ((err as Error).name !== "NoSuchEntityException" && (err as Error).name !== "NoSuchEntity")
        throw translateIamError(role, err);
    }
    try {
      return { text, state: parseRevocationPolicy(text) };
    } catch {
      throw new DependencyUnavailable(
        "AWS IAM revocation list",
        `role ${role}: ${REVOCATION_POLICY_NAME} is not valid JSON`,
      );
    }
  }

  /** False when IAM refused the document as too large. */
  private async put(client: IAMClient, role: string, document: string): Promise<boolean> {
    try {
      await client.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: REVOCATION_POLICY_NAME,
          PolicyDocument: document,
        }),
      );
      return true;
    } catch (err) {
      const name = (err as Error).name;
      if (name === "LimitExceededException" || name === "LimitExceeded") return false;
      throw translateIamError(role, err);
    }
  }

  private async delete(client: IAMClient, role: string): Promise<void> {
    try {
      await client.send(new DeleteRolePolicyCommand({ RoleName: role, PolicyName: REVOCATION_POLICY_NAME }));
    } catch (err) {
      const name = (err as Error).name;
      if (name !== "NoSuchEntityException" && name !== "NoSuchEntity") throw translateIamError(role, err);
    }
  }
}

function translateIamError(role: string, err: unknown): DependencyUnavailable {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  const detail = `role ${role}: ${e.name ?? "Unknown"}${e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : ""}`;
  if (e.name === "AccessDenied" || e.name === "AccessDeniedException")
    return new DependencyUnavailable(
      `AWS IAM denied the broker iam:GetRolePolicy/PutRolePolicy/DeleteRolePolicy on the role's ${REVOCATION_POLICY_NAME} policy`,
      detail,
    );
  return new DependencyUnavailable("AWS IAM", detail);
}
