// `credbroker policy impact --config NEW`: what deploying NEW would change (CONTRACT §14), decided from the
// recorded decisions of the period and the live grants, under the deployed config (CREDBROKER_CONFIG, or
// --deployed FILE) and under NEW. Admin credentials, like `report`. Exit 3 with --fail-on-change when
// anything would move; 1 on errors (NEW not loading among them, in one line).
import { parseArgs } from "node:util";
import { loadConfigFile } from "../config/load.ts";
import { ConfigError, type ResolvedConfig } from "../config/resolve.ts";
import { impactChanges, type PolicyImpact, policyImpactFromStore } from "../core/impact/policy-impact.ts";
import type { GrantStore } from "../core/store.ts";
import { buildDecidingDeps } from "../runtime/broker-deps.ts";
import { CliError } from "./errors.ts";
import type { CliIo } from "./io.ts";
import { renderImpactMarkdown, renderImpactText } from "./policy-impact-render.ts";

const DAY_MS = 86_400_000;
const FORMATS = ["table", "json", "markdown"] as const;
/** What --fail-on-change exits with when the proposal would change a decision or revoke a grant. */
export const CHANGED_EXIT_CODE = 3;

export const POLICY_IMPACT_USAGE =
  "usage: credbroker policy impact --config NEW [--deployed FILE] [--days N | --since ISO] [--json | --format table|json|markdown] [--fail-on-change] [--table T]";

/** Loads a config for the comparison; any failure is one line naming the file. */
async function loadForImpact(path: string, role: string): Promise<ResolvedConfig> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliError(`${role} config ${path} does not load: ${err.problems.join("; ")}`, 1);
    throw new CliError(`${role} config ${path} does not load: ${(err as Error).message.split("\n")[0]}`, 1);
  }
}

export async function policyImpactCommand(
  args: string[],
  io: CliIo,
  store: (table?: string) => Promise<GrantStore>,
  now: () => number = Date.now,
): Promise<{ impact: PolicyImpact; exitCode: number }> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      deployed: { type: "string" },
      table: { type: "string" },
      since: { type: "string" },
      days: { type: "string" },
      json: { type: "boolean", default: false },
      format: { type: "string" },
      "fail-on-change": { type: "boolean", default: false },
    },
  });
  if (!values.config) throw new CliError(`--config NEW is required\n${POLICY_IMPACT_USAGE}`, 2);
  const format = values.json ? "json" : (values.format ?? "table");
  if (!(FORMATS as readonly string[]).includes(format))
    throw new CliError(`--format must be one of ${FORMATS.join(", ")}\n${POLICY_IMPACT_USAGE}`, 2);
  if (values.json && values.format && values.format !== "json")
    throw new CliError("give --json or --format, not both", 2);
  if (values.since && values.days) throw new CliError("give --since or --days, not both", 2);

  const nowMs = now();
  let sinceMs = nowMs - 7 * DAY_MS;
  if (values.days !== undefined) {
    const days = Number(values.days);
    if (!Number.isInteger(days) || days < 1 || days > 3650)
      throw new CliError("--days must be a whole number of days, 1 to 3650", 2);
    sinceMs = nowMs - days * DAY_MS;
  }
  if (values.since !== undefined) {
    sinceMs = Date.parse(values.since);
    if (Number.isNaN(sinceMs) || sinceMs > nowMs)
      throw new CliError("--since takes a past ISO 8601 time, e.g. 2026-11-01T00:00:00Z", 2);
  }

  const proposed = await loadForImpact(values.config, "proposed");
  const deployedPath = values.deployed ?? io.env["CREDBROKER_CONFIG"];
  if (!deployedPath)
    throw new CliError("no deployed config: set CREDBROKER_CONFIG or pass --deployed FILE", 2);
  const deployed = await loadForImpact(deployedPath, "deployed");
  const s = await store(values.table);
  // The table records the version its sweep last applied: a deployed config that is not it replays past
  // decisions under the wrong rules, and most of them would then show as not reproducible.
  const applied = (await s.getSweepState())?.configVersion;
  if (applied !== undefined && applied !== deployed.version)
    io.err(
      `credbroker policy impact: warning: ${deployedPath} is version ${deployed.version}, but the broker last applied ${applied}\n`,
    );
  // Each config's policies are compiled once, here; every replayed decision reuses them.
  const impact = await policyImpactFromStore(
    s,
    buildDecidingDeps(deployed, { store: s }),
    buildDecidingDeps(proposed, { store: s }),
    { sinceMs, untilMs: nowMs },
    nowMs,
  );
  io.out(
    format === "json"
      ? `${JSON.stringify(impact, null, 2)}\n`
      : format === "markdown"
        ? renderImpactMarkdown(impact)
        : renderImpactText(impact),
  );
  return { impact, exitCode: values["fail-on-change"] && impactChanges(impact) ? CHANGED_EXIT_CODE : 0 };
}
