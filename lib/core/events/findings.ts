// AWS security findings about sessions the broker issued (CONTRACT §13): a GuardDuty or Security Hub finding
// delivered by EventBridge that names a broker session (`…:cb-<grantId>`) or a grant's access key revokes
// that grant (reason `finding`) and sets the configured signal on its workload, so that policies refuse it
// until someone clears the signal. Findings that name no grant are audited as `ignored`. Deduplicated by
// the finding's own id.
import type { FindingsConfig } from "../../config/events-schema.ts";
import { recordAudit } from "../audit-recorder.ts";
import { DependencyUnavailable } from "../errors.ts";
import { GRANT_ID_PATTERN, newId } from "../ids.ts";
import type { ReevaluateDeps } from "../reevaluate.ts";
import { revokeGrant } from "../revoke-grant.ts";
import { changeSignals } from "../signals.ts";
import { DELIVERY_KEEP_MS } from "./end-task.ts";
import { MalformedEvent } from "./webhooks.ts";

export const FINDING_REASON = "finding";

export interface Finding {
  id: string;
  source: "aws.guardduty" | "aws.securityhub";
  type: string;
  /** On GuardDuty's 0–10 scale. */
  severity: number;
  principalIds: string[];
  accessKeyIds: string[];
}

export interface FindingOutcome {
  findingId: string;
  outcome: "revoked" | "ignored" | "duplicate";
  grants: string[];
  why?: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const ACCESS_KEY = /\b((?:AKIA|ASIA)[A-Z0-9]{12,124})\b/;
/** A broker session's name at the end of a principal id (`AROA…:cb-<id>`) or an assumed-role ARN (`…/cb-<id>`). */
const SESSION = /[:/]cb-([0-9a-z]{26})$/;

/** Security Hub's severity labels on GuardDuty's scale. */
const LABELS: Record<string, number> = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 4, HIGH: 7, CRITICAL: 9 };

/** The findings of one EventBridge event (GuardDuty: one; Security Hub: a list). Throws MalformedEvent. */
export function findingsOf(envelope: unknown): Finding[] {
  if (!isObject(envelope)) throw new MalformedEvent("an EventBridge event must be an object");
  const detail = envelope["detail"];
  if (!isObject(detail)) throw new MalformedEvent("detail must be an object");
  if (envelope["source"] === "aws.guardduty") {
    const id = str(detail["id"]);
    if (!id) throw new MalformedEvent("detail.id is required");
    const resource = isObject(detail["resource"]) ? detail["resource"] : {};
    const keys = isObject(resource["accessKeyDetails"]) ? resource["accessKeyDetails"] : {};
    const principal = str(keys["principalId"]);
    const key = str(keys["accessKeyId"]);
    return [
      {
        id,
        source: "aws.guardduty",
        type: str(detail["type"]) ?? "unknown",
        severity:
          typeof detail["severity"] === "number" ? detail["severity"] : Number(detail["severity"] ?? 0),
        principalIds: principal ? [principal] : [],
        accessKeyIds: key ? [key] : [],
      },
    ];
  }
  if (envelope["source"] === "aws.securityhub") {
    const list = detail["findings"];
    if (!Array.isArray(list)) throw new MalformedEvent("detail.findings must be a list");
    return list.map((f): Finding => {
      if (!isObject(f) || !str(f["Id"])) throw new MalformedEvent("every finding needs an Id");
      const severity = isObject(f["Severity"]) ? f["Severity"] : {};
      const label = LABELS[String(severity["Label"] ?? "")];
      const principalIds: string[] = [];
      const accessKeyIds: string[] = [];
      for (const r of Array.isArray(f["Resources"]) ? f["Resources"] : []) {
        if (!isObject(r) || r["Type"] !== "AwsIamAccessKey") continue;
        const details =
          isObject(r["Details"]) && isObject(r["Details"]["AwsIamAccessKey"])
            ? r["Details"]["AwsIamAccessKey"]
            : {};
        for (const p of [details["PrincipalId"], details["PrincipalName"]])
          if (str(p)) principalIds.push(p as string);
        const key = str(details["AccessKeyId"]) ?? ACCESS_KEY.exec(String(r["Id"] ?? ""))?.[1];
        if (key) accessKeyIds.push(key);
      }
      return {
        id: f["Id"] as string,
        source: "aws.securityhub",
        type: (Array.isArray(f["Types"]) ? str(f["Types"][0]) : undefined) ?? "unknown",
        severity: label ?? (typeof severity["Normalized"] === "number" ? severity["Normalized"] / 10 : 0),
        principalIds,
        accessKeyIds,
      };
    });
  }
  throw new MalformedEvent("source must be aws.guardduty or aws.securityhub");
}

/** A signal value is printable ASCII of at most 256 characters (signals.ts). */
const signalValue = (type: string) => type.replace(/[^\x20-\x7e]/g, "?").slice(0, 256);

export async function handleFindings(deps: ReevaluateDeps, envelope: unknown): Promise<FindingOutcome[]> {
  const config = deps.config.events?.findings;
  const findings = findingsOf(envelope);
  const outcomes: FindingOutcome[] = [];
  for (const finding of findings) outcomes.push(await handleFinding(deps, config, finding));
  return outcomes;
}

async function handleFinding(
  deps: ReevaluateDeps,
  config: FindingsConfig | undefined,
  finding: Finding,
): Promise<FindingOutcome> {
  const events = deps.store.events;
  if (!events) throw new DependencyUnavailable("event store", "the grant store keeps no events");
  const now = deps.clock.now();
  const key = `finding#${finding.id}`;
  if (!(await events.claimDelivery(key, now, DELIVERY_KEEP_MS)))
    return { findingId: finding.id, outcome: "duplicate", grants: [] };
  try {
    const why = !config
      ? "events.findings is not configured"
      : !config.sources.includes(finding.source)
        ? `${finding.source} is not among events.findings.sources`
        : finding.severity < config.minSeverity
          ? `severity ${finding.severity} is below minSeverity ${config.minSeverity}`
          : undefined;
    const grantIds = why ? [] : await grantsNamed(deps, finding);
    const grants = (await Promise.all(grantIds.map((id) => deps.store.getGrant(id)))).filter(
      (g) => g !== undefined,
    );
    if (!config || why || grants.length === 0) {
      const reason = why ?? "the finding names no session or access key of the broker";
      await recordAudit(deps.store, deps.log, {
        eventId: newId(now),
        time: new Date(now).toISOString(),
        kind: "event",
        outcome: "ignored",
        actor: finding.source,
        deliveryId: finding.id,
        event: finding.type,
        reasons: [reason],
      });
      await events.completeDelivery(key, deps.clock.now(), DELIVERY_KEEP_MS);
      return { findingId: finding.id, outcome: "ignored", grants: [], why: reason };
    }
    const revoked: string[] = [];
    for (const grant of grants) {
      if (
        grant.status === "active" &&
        (await revokeGrant(deps, grant, {
          reason: FINDING_REASON,
          kind: "event",
          actor: finding.source,
          audit: { deliveryId: finding.id, event: finding.type },
        }))
      )
        revoked.push(grant.grantId);
    }
    // The workload is flagged whatever became of the grant: its other grants are re-decided at once.
    for (const workload of new Set(grants.map((g) => g.workload)))
      await changeSignals(deps, {
        workload,
        set: { [config.signal]: signalValue(finding.type) },
        actor: finding.source,
      });
    await events.completeDelivery(key, deps.clock.now(), DELIVERY_KEEP_MS);
    return { findingId: finding.id, outcome: "revoked", grants: revoked };
  } catch (err) {
    await events.releaseDelivery(key).catch(() => undefined);
    throw err;
  }
}

async function grantsNamed(deps: ReevaluateDeps, finding: Finding): Promise<string[]> {
  const ids = new Set<string>();
  for (const principal of finding.principalIds) {
    const id = SESSION.exec(principal)?.[1];
    if (id && GRANT_ID_PATTERN.test(id)) ids.add(id);
  }
  for (const key of finding.accessKeyIds) {
    const id = await deps.store.events?.grantIdByAccessKey(key);
    if (id) ids.add(id);
  }
  return [...ids];
}
