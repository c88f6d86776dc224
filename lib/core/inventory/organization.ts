// The organisation-wide inventory (CONTRACT §16): the accounts come from Organizations, one run gives them
// all one snapshot time, and each account is synced on its own (by the CLI in process, a bounded number at
// once; on AWS one queue message each), so one failing account neither blocks nor hides the others. Each
// account's outcome — `ok` or its error — is recorded in the run; a failed account stores no snapshot, so
// its previous snapshot stays its newest and nothing of it is lost.
import type { OrganizationConfig } from "../../config/organization-schema.ts";
import { InventoryError } from "./errors.ts";
import type { AccountFacts } from "./model.ts";
import type { DebtCounts } from "./records.ts";
import type { SnapshotSummary } from "./store.ts";
import { DEFAULT_INVENTORY, type SyncOptions, storeSnapshots } from "./sync.ts";

/** One account as Organizations lists it. */
export interface OrganizationAccount {
  accountId: string;
  name?: string;
  /** ACTIVE, SUSPENDED, PENDING_CLOSURE (Organizations' `Status`; `State` in its newer answers). */
  status: string;
}

/** What an organisation sync reads: the account list (through `roleArn`) and each member's IAM. */
export interface OrganizationIam {
  caller(): Promise<{ account: string; arn: string }>;
  /** Every account of the organisation, all pages. */
  listAccounts(roleArn: string): Promise<OrganizationAccount[]>;
  readAccount(
    account: { accountId: string; roleArn: string },
    ownerTagKeys: readonly string[],
    progress: (line: string) => void,
  ): Promise<AccountFacts>;
}

/** One run: every listed account, the snapshot time they share, and when silence counts as a timeout. */
export interface OrganizationRun {
  snapshotTime: string;
  accounts: string[];
  /** After this, an account that has not reported counts as timed out (ISO). */
  deadline: string;
  /** Accounts Organizations listed that the run leaves out: not ACTIVE, or excluded. */
  skipped: { accountId: string; why: string }[];
}

export type AccountResult =
  | { accountId: string; status: "ok"; principals: number; counts: DebtCounts; at: string }
  | { accountId: string; status: "error"; error: string; at: string };

/** Runs and their per-account results (lib/aws/organization-runs.ts on the broker's table). */
export interface OrganizationRunStore {
  putRun(run: OrganizationRun): Promise<void>;
  /** One account's outcome; a later report of the same account replaces it (a retry that succeeded). */
  putResult(snapshotTime: string, result: AccountResult): Promise<void>;
  /** The newest run with its results, or undefined before the first. */
  latestRun(): Promise<{ run: OrganizationRun; results: AccountResult[] } | undefined>;
}

/** The message the schedule enqueues per account, and what the worker syncs. */
export interface AccountMessage {
  snapshotTime: string;
  accountId: string;
  roleArn: string;
}

/** How a run stands: complete once every listed account reported or timed out. */
export interface OrganizationRunStatus {
  snapshotTime: string;
  listed: number;
  ok: number;
  failed: { accountId: string; error: string }[];
  /** Not reported yet, before the deadline. */
  pending: string[];
  /** Not reported by the deadline. */
  timedOut: string[];
  skipped: OrganizationRun["skipped"];
  complete: boolean;
  /** Every account of the run without a snapshot from it: failed, timed out or pending, sorted. */
  notSynced: string[];
}

/** Six hours: 1,000 accounts a few at a time finish far inside it, and a stuck worker is noticed the same day. */
export const RUN_TIMEOUT_MS = 6 * 3_600_000;

export function memberRoleArn(
  org: Pick<OrganizationConfig, "roleArn" | "memberRoleName">,
  accountId: string,
) {
  const partition = org.roleArn.split(":")[1] ?? "aws";
  return `arn:${partition}:iam::${accountId}:role/${org.memberRoleName}`;
}

/** The accounts a run syncs: ACTIVE and not excluded, each once, sorted; the rest with the reason. */
export function selectAccounts(
  listed: readonly OrganizationAccount[],
  excludeAccounts: readonly string[],
): { accounts: string[]; skipped: OrganizationRun["skipped"] } {
  const exclude = new Set(excludeAccounts);
  const accounts = new Set<string>();
  const skipped = new Map<string, string>();
  for (const a of listed) {
    if (exclude.has(a.accountId))
      skipped.set(a.accountId, "excluded by inventory.organization.excludeAccounts");
    else if (a.status !== "ACTIVE") skipped.set(a.accountId, `status ${a.status}`);
    else accounts.add(a.accountId);
  }
  return {
    accounts: [...accounts].sort(),
    skipped: [...skipped]
      .filter(([id]) => !accounts.has(id))
      .sort((x, y) => x[0].localeCompare(y[0]))
      .map(([accountId, why]) => ({ accountId, why })),
  };
}

/** Runs `work` over `items`, at most `limit` at once; resolves when all have settled (work never throws). */
export async function boundedEach<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export function runStatus(
  run: OrganizationRun,
  results: readonly AccountResult[],
  nowMs: number,
): OrganizationRunStatus {
  const byAccount = new Map(results.map((r) => [r.accountId, r]));
  const failed: OrganizationRunStatus["failed"] = [];
  const silent: string[] = [];
  let ok = 0;
  for (const id of run.accounts) {
    const r = byAccount.get(id);
    if (!r) silent.push(id);
    else if (r.status === "ok") ok++;
    else failed.push({ accountId: id, error: r.error });
  }
  const late = nowMs >= Date.parse(run.deadline);
  return {
    snapshotTime: run.snapshotTime,
    listed: run.accounts.length,
    ok,
    failed,
    pending: late ? [] : silent,
    timedOut: late ? silent : [],
    skipped: run.skipped,
    complete: late || silent.length === 0,
    notSynced: [...failed.map((f) => f.accountId), ...silent].sort(),
  };
}

/** One line, never a stack: an InventoryError's own message, otherwise the error's name and message. */
export function accountError(err: unknown): string {
  if (err instanceof InventoryError) return err.message;
  const e = err as Error;
  return `${e?.name ?? "Error"}: ${String(e?.message ?? err)}`.replace(/\s*\n\s*/g, " ").slice(0, 1000);
}

export interface OrganizationSyncOptions extends SyncOptions {
  runs: OrganizationRunStore;
}

const orgOf = (o: Pick<SyncOptions, "config">): OrganizationConfig => {
  const org = o.config.inventory?.organization;
  if (!org) throw new InventoryError("inventory.organization is not configured");
  return org;
};

/**
 * Starts a run: lists the organisation's accounts, records the run (every account listed, none reported)
 * and answers one message per account. The scheduler enqueues them; the CLI works them itself.
 */
export async function startOrganizationRun(
  iam: Pick<OrganizationIam, "listAccounts">,
  o: Pick<OrganizationSyncOptions, "config" | "clock" | "runs" | "progress">,
  only?: string,
): Promise<{ run: OrganizationRun; messages: AccountMessage[] }> {
  const org = orgOf(o);
  const listed = await iam.listAccounts(org.roleArn);
  let { accounts, skipped } = selectAccounts(listed, org.excludeAccounts);
  if (only !== undefined) {
    if (!accounts.includes(only))
      throw new InventoryError(`account ${only} is not an ACTIVE, included account of the organisation`);
    accounts = [only];
    skipped = [];
  }
  const nowMs = o.clock.now();
  const run: OrganizationRun = {
    snapshotTime: new Date(nowMs).toISOString(),
    accounts,
    deadline: new Date(nowMs + RUN_TIMEOUT_MS).toISOString(),
    skipped,
  };
  await o.runs.putRun(run);
  o.progress?.(
    `organization: ${listed.length} accounts listed, ${accounts.length} to sync, ${skipped.length} left out`,
  );
  return {
    run,
    messages: accounts.map((accountId) => ({
      snapshotTime: run.snapshotTime,
      accountId,
      roleArn: memberRoleArn(org, accountId),
    })),
  };
}

/** What the accounts of one run share: its snapshot time, and the broker's principals (its caller's too). */
export interface RunContext {
  snapshotMs: number;
  brokerPrincipals: string[];
}

/**
 * Syncs one account of a run and records its outcome. Never throws for the account's own failure: the
 * result says it.
 */
export async function syncOrganizationAccount(
  iam: Pick<OrganizationIam, "readAccount">,
  ctx: RunContext,
  message: AccountMessage,
  o: Omit<OrganizationSyncOptions, "source">,
): Promise<AccountResult> {
  const progress = o.progress ?? (() => {});
  let result: AccountResult;
  try {
    const facts = await iam.readAccount(
      { accountId: message.accountId, roleArn: message.roleArn },
      (o.config.inventory ?? DEFAULT_INVENTORY).ownerTagKeys,
      progress,
    );
    const [summary] = (await storeSnapshots([facts], {
      ...o,
      source: "live",
      snapshotMs: ctx.snapshotMs,
      brokerPrincipals: ctx.brokerPrincipals,
    })) as [SnapshotSummary];
    result = {
      accountId: message.accountId,
      status: "ok",
      principals: summary.principals,
      counts: summary.counts,
      at: new Date(o.clock.now()).toISOString(),
    };
  } catch (err) {
    result = {
      accountId: message.accountId,
      status: "error",
      error: accountError(err),
      at: new Date(o.clock.now()).toISOString(),
    };
    progress(`account ${message.accountId}: not synced: ${result.error}`);
  }
  // Its snapshot (if any) is stored either way; a result that cannot be written leaves the account
  // silent in the run, so the run counts it as not synced (timed out) rather than losing it.
  try {
    await o.runs.putResult(message.snapshotTime, result);
  } catch (err) {
    progress(`account ${message.accountId}: its result could not be recorded: ${accountError(err)}`);
  }
  return result;
}

/** The context of a run's accounts: the run's snapshot time, and the broker's caller as a principal. */
export async function runContext(
  iam: Pick<OrganizationIam, "caller">,
  o: Pick<SyncOptions, "brokerPrincipals" | "config">,
  snapshotTime: string,
): Promise<RunContext> {
  const caller = await iam.caller();
  return {
    snapshotMs: Date.parse(snapshotTime),
    brokerPrincipals: [...(o.brokerPrincipals ?? []), caller.arn],
  };
}

/** The whole fan-out in process (`inventory sync` with an organisation): at most `concurrency` at once. */
export async function syncOrganization(
  iam: OrganizationIam,
  o: OrganizationSyncOptions & { account?: string | undefined },
): Promise<{ status: OrganizationRunStatus; results: AccountResult[] }> {
  const org = orgOf(o);
  const { run, messages } = await startOrganizationRun(iam, o, o.account);
  const ctx = await runContext(iam, o, run.snapshotTime);
  const results: AccountResult[] = [];
  await boundedEach(messages, org.concurrency, async (m) => {
    results.push(await syncOrganizationAccount(iam, ctx, m, o));
  });
  results.sort((x, y) => x.accountId.localeCompare(y.accountId));
  return { status: runStatus(run, results, o.clock.now()), results };
}
