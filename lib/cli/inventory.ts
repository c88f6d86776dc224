// `credbroker inventory sync | list | review` (CONTRACT §9): reads IAM (live, or the files the AWS CLI
// writes), stores a dated snapshot per account in the broker's table, lists what it found, and records
// reviews of privileged principals. Any input that cannot be read is one line on stderr, exit 1, and
// nothing stored: the previous snapshot stays the newest.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { InventoryConfig } from "../config/schema.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { InventoryError } from "../core/inventory/errors.ts";
import { newestSnapshots } from "../core/inventory/gather.ts";
import type { OrganizationIam } from "../core/inventory/organization.ts";
import {
  DEBT_CRITERIA,
  type PrincipalRecord,
  type Review,
  reviewValidAt,
} from "../core/inventory/records.ts";
import type { InventoryStore, SnapshotSummary } from "../core/inventory/store.ts";
import { DEFAULT_INVENTORY, type LiveIam, storeSnapshots, syncLive } from "../core/inventory/sync.ts";
import { configPathFrom } from "./env.ts";
import { CliError } from "./errors.ts";
import { type CliIo, table } from "./io.ts";

export const INVENTORY_USAGE = `usage: credbroker inventory sync [--config FILE] [--account ID] [--credential-report FILE --authorization-details FILE [--secrets FILE] [--account-id ID]] [--json]
       credbroker inventory list [--kind user|role|group|key|secret] [--debt] [--json]
       credbroker inventory review ARN --note TEXT [--by NAME] [--config FILE]`;

const DAY_MS = 86_400_000;
const KINDS = ["user", "role", "group", "key", "secret"] as const;

export type { LiveIam };

export interface InventoryDeps {
  store: InventoryStore;
  live: () => Promise<LiveIam>;
  /** The organisation's accounts and IAM (CONTRACT §16), when inventory.organization is set. */
  organization?: () => Promise<OrganizationIam>;
  clock: Clock;
  /**
   * The broker's own principal for a file sync, as the live sync reads it (STS GetCallerIdentity), when AWS
   * credentials are at hand; undefined without them. Absent: the file sync counts inventory.brokerPrincipals
   * only.
   */
  callerIfAtHand?: () => Promise<{ account: string; arn: string } | undefined>;
}

/**
 * Whether the SDK would find credentials without asking the instance metadata service (which a laptop has
 * not, and which a file sync must not wait on): the environment, a profile, web identity or a container.
 */
export function credentialsAtHand(env: NodeJS.ProcessEnv, home = homedir()): boolean {
  if (env["AWS_ACCESS_KEY_ID"] || env["AWS_PROFILE"] || env["AWS_WEB_IDENTITY_TOKEN_FILE"]) return true;
  if (env["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] || env["AWS_CONTAINER_CREDENTIALS_FULL_URI"]) return true;
  const files = [
    env["AWS_SHARED_CREDENTIALS_FILE"] ?? join(home, ".aws", "credentials"),
    env["AWS_CONFIG_FILE"] ?? join(home, ".aws", "config"),
  ];
  return files.some((f) => existsSync(f));
}

export function inventoryStoreFromEnv(
  table: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<InventoryStore> {
  return (async () => {
    const { dynamoClientFromEnv, tableFrom } = await import("./env.ts");
    const { DynamoInventoryStore } = await import("../aws/inventory-store.ts");
    return new DynamoInventoryStore(dynamoClientFromEnv(env), tableFrom(table, env));
  })();
}

async function defaultDeps(table: string | undefined, env: NodeJS.ProcessEnv): Promise<InventoryDeps> {
  const live = async (): Promise<LiveIam> => {
    const { readAccountLive, callerIdentity } = await import("../aws/iam-inventory.ts");
    const { STSClient } = await import("@aws-sdk/client-sts");
    const sts = new STSClient({});
    return {
      caller: () => callerIdentity(sts),
      readAccount: (account, keys, progress) => readAccountLive(account, keys, { sts, progress }),
    };
  };
  return {
    organization: async () => (await import("../aws/organization-inventory.ts")).organizationIam(),
    store: await inventoryStoreFromEnv(table, env),
    clock: systemClock,
    live,
    callerIfAtHand: async () => (credentialsAtHand(env) ? (await live()).caller() : undefined),
  };
}

const inputError = (err: unknown) => {
  if (err instanceof InventoryError)
    return new CliError(`inventory sync: ${err.message}; nothing was stored`);
  return err;
};

export async function inventoryCommand(
  args: string[],
  io: CliIo,
  deps?: (flags: { table?: string | undefined }) => Promise<InventoryDeps>,
): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      config: { type: "string" },
      table: { type: "string" },
      account: { type: "string" },
      "account-id": { type: "string" },
      "credential-report": { type: "string" },
      "authorization-details": { type: "string" },
      secrets: { type: "string" },
      kind: { type: "string" },
      debt: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      note: { type: "string" },
      by: { type: "string" },
    },
  });
  const load = () => (deps ? deps({ table: values.table }) : defaultDeps(values.table, io.env));
  const loadConfig = async () => {
    const { loadConfigFile } = await import("../config/load.ts");
    return (await loadConfigFile(configPathFrom(values.config, io.env))).config;
  };

  if (sub === "sync") {
    const files = values["credential-report"] ?? values["authorization-details"];
    if (files && !(values["credential-report"] && values["authorization-details"]))
      throw new CliError(`give both --credential-report and --authorization-details\n${INVENTORY_USAGE}`, 2);
    if (files && values.account) throw new CliError("with files, name the account with --account-id", 2);
    if (values.secrets && !files)
      throw new CliError("--secrets goes with --credential-report and --authorization-details", 2);
    if (!files && values["account-id"])
      throw new CliError("--account-id goes with the files; live, use --account", 2);
    const config = await loadConfig();
    const inventory: InventoryConfig = config.inventory ?? DEFAULT_INVENTORY;
    const d = await load();
    const progress = (line: string) => io.err(`${line}\n`);
    if (!files && inventory.organization) {
      const { syncOrganizationCommand } = await import("./inventory-organization.ts");
      await syncOrganizationCommand(d, { config, account: values.account, json: values.json }, io);
      return;
    }
    let summaries: SnapshotSummary[];
    try {
      if (files) {
        const { readAccountFiles } = await import("./inventory-files.ts");
        progress(`reading ${values["credential-report"]} and ${values["authorization-details"]}`);
        const facts = await readAccountFiles(
          {
            credentialReport: values["credential-report"]!,
            authorizationDetails: values["authorization-details"]!,
            ...(values.secrets ? { secrets: values.secrets } : {}),
            ...(values["account-id"] ? { accountId: values["account-id"] } : {}),
          },
          inventory.ownerTagKeys,
        );
        // The same broker principals as a live sync of the account would count, when STS can say who the
        // broker is; otherwise only the configured ones, and the snapshot says so.
        const caller = await d.callerIfAtHand?.().catch((err: unknown) => {
          progress(
            `STS GetCallerIdentity failed (${(err as Error).name}): counting inventory.brokerPrincipals only`,
          );
          return undefined;
        });
        if (!caller)
          progress("no AWS credentials at hand: the broker's principals are inventory.brokerPrincipals only");
        summaries = await storeSnapshots([facts], {
          config,
          store: d.store,
          clock: d.clock,
          source: "files",
          progress,
          brokerPrincipals: caller ? [caller.arn] : [],
          brokerPrincipalsFrom: caller ? "caller-identity" : "config",
        });
      } else {
        summaries = await syncLive(await d.live(), {
          config,
          store: d.store,
          clock: d.clock,
          source: "live",
          progress,
          account: values.account,
        });
      }
    } catch (err) {
      throw inputError(err);
    }
    if (values.json) io.out(`${JSON.stringify(summaries, null, 2)}\n`);
    else
      for (const s of summaries) {
        io.out(`account ${s.accountId}: snapshot ${s.snapshotTime}, ${s.principals} principals\n`);
        for (const c of DEBT_CRITERIA) io.out(`  ${c.padEnd(22)} ${s.counts[c]}\n`);
        io.out(
          `  ${"".padEnd(22)} (keys: ${s.keys.replaced} replaced, ${s.keys.unreplaced} unreplaced, ${s.keys.stillUsedAfterReplacement} still used after replacement)\n`,
        );
        if (s.secrets)
          io.out(
            `  ${"".padEnd(22)} (secrets: ${s.secrets.brokered} brokered, ${s.secrets.rotatedAfterUse} rotated after use, ${s.secrets.exposed} exposed)\n`,
          );
      }
    return;
  }

  if (sub === "list") {
    if (values.kind && !(KINDS as readonly string[]).includes(values.kind))
      throw new CliError(`--kind must be one of ${KINDS.join(", ")}`, 2);
    const d = await load();
    const [snapshots, reviews] = await Promise.all([newestSnapshots(d.store), d.store.listReviews()]);
    const nowMs = d.clock.now();
    const debtOf = (r: PrincipalRecord) =>
      [
        r.privileged && !reviewValidAt(reviews.get(r.arn), nowMs) ? "privileged-unreviewed" : "",
        r.orphaned ? "orphaned" : "",
        r.stale ? "stale" : "",
        r.keys?.length ? "long-lived-keys" : "",
        r.bypass ? "bypass" : "",
        r.staticSecret ? "static-secret" : "",
      ].filter(Boolean);
    let records = snapshots.flatMap((s) => s.records);
    if (values.debt) records = records.filter((r) => debtOf(r).length > 0);
    if (values.kind === "key") {
      const keys = records.flatMap((r) =>
        (r.keys ?? []).map((k) => ({ arn: r.arn, accountId: r.accountId, ...k })),
      );
      if (values.json) io.out(`${JSON.stringify(keys, null, 2)}\n`);
      else
        io.out(
          table(
            keys.map((k) => ({
              user: k.arn,
              key: k.key,
              "last used": k.lastUsed ?? "never",
              "replaced by": k.replacedBy.join(", ") || "-",
              "used after": k.usedAfterReplacement ? "yes" : "no",
            })),
            ["user", "key", "last used", "replaced by", "used after"],
          ),
        );
      return;
    }
    if (values.kind) records = records.filter((r) => r.kind === values.kind);
    if (values.json) {
      const reviewed = (r: PrincipalRecord) => reviews.get(r.arn) ?? null;
      io.out(
        `${JSON.stringify(
          records.map((r) => ({ ...r, review: reviewed(r), debt: debtOf(r) })),
          null,
          2,
        )}\n`,
      );
      return;
    }
    if (snapshots.every((s) => s.summaries.length === 0))
      io.err("no inventory snapshot yet: run credbroker inventory sync\n");
    io.out(
      table(
        records.map((r) => ({ kind: r.kind, arn: r.arn, debt: debtOf(r).join(", ") || "-" })),
        ["kind", "arn", "debt"],
      ),
    );
    return;
  }

  if (sub === "review") {
    const [arn] = positionals;
    if (!arn || positionals.length > 1 || !values.note)
      throw new CliError(`inventory review takes one ARN and --note TEXT\n${INVENTORY_USAGE}`, 2);
    const by = values.by ?? io.env["USER"];
    if (!by) throw new CliError("name the reviewer with --by NAME", 2);
    const config = await loadConfig();
    const d = await load();
    const found = (await newestSnapshots(d.store)).flatMap((s) => s.records).find((r) => r.arn === arn);
    if (!found)
      throw new CliError(`${arn} is not in the newest inventory snapshot (run inventory sync first?)`);
    if (!found.privileged)
      throw new CliError(`${arn} is not privileged in the newest snapshot: nothing to review`);
    const nowMs = d.clock.now();
    const days = (config.inventory ?? DEFAULT_INVENTORY).reviewValidDays;
    const review: Review = {
      arn,
      by,
      at: new Date(nowMs).toISOString(),
      note: values.note,
      validUntil: new Date(nowMs + days * DAY_MS).toISOString(),
    };
    await d.store.putReview(review);
    io.out(`reviewed ${arn} (by ${by}), valid until ${review.validUntil}\n`);
    return;
  }
  throw new CliError(INVENTORY_USAGE, 2);
}
