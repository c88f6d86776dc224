// `credbroker grants list | show | revoke`: admin commands that talk to the table directly.
import { parseArgs } from "node:util";
import { systemClock } from "../core/clock.ts";
import { type Grant, type GrantStatus, grantView, TRANSITIONS } from "../core/grant.ts";
import type { Logger } from "../core/logger.ts";
import type { CredentialProvider } from "../core/providers/provider.ts";
import { PROVIDER_TRAITS } from "../core/providers/traits.ts";
import { revokeGrant } from "../core/revoke-grant.ts";
import type { GrantStore } from "../core/store.ts";
import { escapeUnsafeText, isSafeText } from "../core/text.ts";
import { CliError } from "./errors.ts";
import { type CliIo, table } from "./io.ts";

const STATUSES = Object.keys(TRANSITIONS) as GrantStatus[];

export interface GrantsCommandDeps {
  store: GrantStore;
  providers?: Partial<Record<Grant["provider"], CredentialProvider>>;
}

export interface GrantsFlags {
  table?: string | undefined;
  config?: string | undefined;
}

/** The table from --table/CREDBROKER_TABLE; with a config, an aws-sts revoke reaches IAM at once. */
async function defaultDeps(
  flags: GrantsFlags,
  revoking: boolean,
  env: NodeJS.ProcessEnv,
): Promise<GrantsCommandDeps> {
  const { storeFromEnv } = await import("./env.ts");
  const config = flags.config ?? env["CREDBROKER_CONFIG"];
  if (!revoking || !config) return { store: storeFromEnv(flags.table, env) };
  const { loadConfigFile } = await import("../config/load.ts");
  const { adminProviders } = await import("./admin-deps.ts");
  const resolved = await loadConfigFile(config);
  // The revoked grant and its audit event are kept as long as the config says, as the broker keeps them.
  const store = storeFromEnv(flags.table, env, resolved.config);
  return { store, providers: adminProviders(resolved, config, store) };
}

export async function grantsCommand(
  args: string[],
  io: CliIo,
  deps?: (flags: GrantsFlags) => Promise<GrantsCommandDeps>,
): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      status: { type: "string" },
      workload: { type: "string" },
      json: { type: "boolean", default: false },
      limit: { type: "string" },
      reason: { type: "string" },
      table: { type: "string" },
      config: { type: "string" },
    },
  });
  const load = () =>
    deps
      ? deps({ table: values.table, config: values.config })
      : defaultDeps(values, sub === "revoke", io.env);
  switch (sub) {
    case "list": {
      const status = values.status as GrantStatus | undefined;
      if (status && !STATUSES.includes(status))
        throw new CliError(`--status must be one of ${STATUSES.join(", ")}`);
      const limit = values.limit ? Number(values.limit) : undefined;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
        throw new CliError("--limit must be a positive whole number");
      const { store } = await load();
      const grants = await listAll(store, values.workload, status, limit);
      if (values.json) io.out(`${JSON.stringify(grants.map(grantView), null, 2)}\n`);
      else
        io.out(
          table(
            grants.map((g) => ({
              grant: g.grantId,
              workload: g.workload,
              task: g.task,
              status: g.status,
              issued: g.issuedAt,
              expires: g.expiresAt,
              reason: g.reason ?? "",
            })),
            ["grant", "workload", "task", "status", "issued", "expires", "reason"],
          ),
        );
      return;
    }
    case "show": {
      const id = positionals[0];
      if (!id) throw new CliError("usage: credbroker grants show ID [--json]");
      const { store } = await load();
      const grant = await store.getGrant(id);
      if (!grant) throw new CliError(`no grant ${id}`);
      const view = grantView(grant);
      if (values.json) io.out(`${JSON.stringify(view, null, 2)}\n`);
      // Stored free text (purpose, reason) is printed escaped: it may predate the rule that refuses it.
      else
        for (const [k, v] of Object.entries(view))
          io.out(`${k.padEnd(18)} ${escapeUnsafeText(Array.isArray(v) ? v.join(", ") : String(v))}\n`);
      return;
    }
    case "revoke": {
      const id = positionals[0];
      if (!id || !values.reason) throw new CliError("usage: credbroker grants revoke ID --reason TEXT");
      if (values.reason.length > 256 || !isSafeText(values.reason))
        throw new CliError("--reason must be at most 256 printable characters (no controls or bidi marks)");
      const d = await load();
      const grant = await d.store.getGrant(id);
      if (!grant) throw new CliError(`no grant ${id}`);
      if (grant.status !== "active")
        throw new CliError(`grant ${id} is ${grant.status}, not active; nothing to revoke`);
      const actor = io.env["USER"] ?? "admin";
      // One result line, not the broker's JSON log lines: the audit event is in the table, and why a
      // revocation is still pending goes on the result line.
      const why: string[] = [];
      const note = (m: string, f?: Record<string, unknown>) =>
        why.push(typeof f?.["detail"] === "string" ? f["detail"] : m);
      const log: Logger = { info() {}, warn: note, error: note };
      const revoked = await revokeGrant(
        { store: d.store, providers: d.providers ?? {}, clock: systemClock, log },
        grant,
        { reason: values.reason, kind: "admin", actor },
      );
      if (!revoked) throw new CliError(`grant ${id} changed while revoking; run grants show ${id}`);
      const cause = !d.providers?.[revoked.provider]
        ? `this shell has no ${revoked.provider} provider (give --config or CREDBROKER_CONFIG)`
        : why[0];
      const pending = !revoked.revocationPending
        ? ""
        : ` (${PROVIDER_TRAITS[revoked.provider].pendingRevocation})${cause ? `: ${cause}` : ""}`;
      io.out(`revoked ${id}${pending}\n`);
      return;
    }
    default:
      throw new CliError("usage: credbroker grants list|show|revoke ...");
  }
}

async function listAll(
  store: GrantStore,
  workload: string | undefined,
  status: GrantStatus | undefined,
  limit?: number,
): Promise<Grant[]> {
  const out: Grant[] = [];
  let cursor: string | undefined;
  do {
    const page = workload
      ? await store.listGrantsByWorkload(workload, { ...(cursor ? { cursor } : {}) })
      : await store.listGrants({ ...(cursor ? { cursor } : {}), ...(status ? { status } : {}) });
    for (const g of page.items) if (!status || g.status === status) out.push(g);
    cursor = page.cursor;
    // Only the workload index is newest first; a table scan must be read whole before sorting and cutting.
  } while (cursor && (limit === undefined || !workload || out.length < limit));
  if (!workload) out.sort((a, b) => (a.issuedAt < b.issuedAt ? 1 : a.issuedAt > b.issuedAt ? -1 : 0));
  return limit === undefined ? out : out.slice(0, limit);
}
