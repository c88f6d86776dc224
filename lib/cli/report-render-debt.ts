// The report's inventory debt (CONTRACT §9) for the text and Markdown renderings: one verdict per
// criterion, each criterion's items (the first few; `inventory list --debt` has them all), and the trend.
import { DEBT_CRITERIA } from "../core/inventory/records.ts";
import type { GovernanceReport } from "../core/report/report-types.ts";
import type { Section } from "./report-render.ts";

/** Items shown per criterion; the JSON form has every one. */
const SHOWN = 20;

export function debtSections(r: GovernanceReport): Section[] {
  const d = r.debt;
  if (d.snapshotTime === null)
    return [
      {
        heading: "Inventory debt",
        blocks: [{ title: "", lines: ["no inventory snapshot yet: run credbroker inventory sync"] }],
      },
    ];
  const accounts = d.accounts.map((a) => `${a.accountId} (${a.source}, ${a.snapshotTime})`).join(", ");
  return [
    {
      heading: `Inventory debt (snapshot ${d.snapshotTime})`,
      blocks: [
        { title: "", lines: [`accounts: ${accounts}`] },
        ...organizationBlocks(d),
        {
          title: "",
          rows: d.verdicts.map((v) => ({
            status: v.met ? "met" : "NOT MET",
            criterion: v.criterion,
            actual: String(v.actual),
            verdict:
              v.criterion === "long-lived-keys"
                ? `${v.title ?? v.criterion} (${v.replaced} replaced, ${v.unreplaced} unreplaced, ${v.stillUsedAfterReplacement} still used after replacement)`
                : v.criterion === "static-secrets"
                  ? `${v.title ?? v.criterion} (${v.brokered ?? 0} brokered, ${v.rotatedAfterUse ?? 0} rotated after use, ${v.exposed ?? 0} exposed)`
                  : (v.title ?? v.criterion),
          })),
          columns: ["status", "criterion", "actual", "verdict"],
        },
        ...d.verdicts
          .filter((v) => (v.notes?.length ?? 0) > 0)
          .map((v) => ({
            title: `${v.criterion}: served without rotateAfterUse`,
            rows: (v.notes ?? []).slice(0, SHOWN).map((i) => ({ arn: i.arn, why: i.why })),
            columns: ["arn", "why"],
          })),
        ...d.verdicts
          .filter((v) => v.items.length > 0)
          .map((v) => ({
            title:
              v.items.length > SHOWN
                ? `${v.criterion} (first ${SHOWN} of ${v.items.length}; inventory list --debt for all)`
                : v.criterion,
            rows: v.items.slice(0, SHOWN).map((i) => ({ arn: i.arn, why: i.why })),
            columns: ["arn", "why"],
          })),
        {
          title: "Trend (oldest first)",
          rows: d.trend.map((t) => ({
            snapshot: t.snapshotTime,
            ...Object.fromEntries(DEBT_CRITERIA.map((c) => [c, String(t.counts[c] ?? 0)])),
          })),
          columns: ["snapshot", ...DEBT_CRITERIA],
        },
      ],
    },
  ];
}

/** The newest organisation run (CONTRACT §16): how many synced, and every account not synced, named. */
function organizationBlocks(d: GovernanceReport["debt"]): Section["blocks"] {
  const o = d.organization;
  if (!o) return [];
  const errors = new Map(o.failed.map((f) => [f.accountId, f.error]));
  const why = (id: string) =>
    errors.get(id) ?? (o.timedOut.includes(id) ? "timed out: no report from its worker" : "pending");
  return [
    {
      title: "",
      lines: [
        `organization run ${o.snapshotTime}: ${o.ok} of ${o.listed} accounts synced${o.complete ? "" : " (still running)"}, ${o.notSynced.length} not synced`,
      ],
    },
    ...(o.notSynced.length > 0
      ? [
          {
            title:
              o.notSynced.length > SHOWN
                ? `accounts not synced (first ${SHOWN} of ${o.notSynced.length}; report --json has all)`
                : "accounts not synced",
            rows: o.notSynced.slice(0, SHOWN).map((id) => ({ account: id, why: why(id) })),
            columns: ["account", "why"],
          },
        ]
      : []),
  ];
}
