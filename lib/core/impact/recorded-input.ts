// What a token decision's audit event keeps of its inputs (CONTRACT §14), so that `policy impact` can decide
// the request again: the principal's tags as Cedar saw them (claims flattened, signals as read), the context
// and the names. Never the token: claims are facts about the caller, the token is the credential. The
// claims that vary per token (jti, iat, nbf, exp) and those the config's `audit.omitClaims` names are left
// out; the names of the omitted ones are kept, so a replay that would need one says so instead of guessing.
import type { DecisionInput } from "../policy/authorizer.ts";

/** Claims every token carries with a new value: never recorded (they decide nothing a replay could use). */
export const UNRECORDED_CLAIMS: readonly string[] = ["jti", "iat", "nbf", "exp"];

export interface RecordedContext {
  sourceIp: string;
  /** Epoch seconds, as Cedar's `context.now`. */
  now: number;
  hourUtc: number;
  weekdayUtc: number;
  durationSeconds: number;
  purpose: string;
}

export interface RecordedInput {
  /** The verified token's issuer (its `issuers[].name`) and `sub`: the workload is matched from them. */
  issuer: string;
  subject: string;
  /** The workload it was decided as; absent when no workload matched (an unregistered subject). */
  workload?: string;
  task: string;
  /** Claims as flattened for Cedar (minus UNRECORDED_CLAIMS and `audit.omitClaims`) plus `signal:<name>`. */
  tags: Record<string, string>;
  /** Tag keys the token had but `audit.omitClaims` kept out of `tags`. */
  omittedClaims?: string[];
  /** false: the workload's signals were not read (it was refused before the policies were asked). */
  signalsRead?: false;
  context: RecordedContext;
  /** What was decided on these inputs. */
  decided: "allow" | "deny";
}

function isOmitted(key: string, omit: readonly string[]): boolean {
  for (const name of omit) if (key === name || key.startsWith(`${name}.`)) return true;
  return false;
}

/** Splits tags into what is recorded and the names of the claims left out; signals are always kept. */
function recordableTags(
  tags: Record<string, string>,
  omitClaims: readonly string[],
): { tags: Record<string, string>; omitted: string[] } {
  const kept: Record<string, string> = {};
  const omitted: string[] = [];
  for (const [key, value] of Object.entries(tags)) {
    if (key.startsWith("signal:")) kept[key] = value;
    else if (UNRECORDED_CLAIMS.includes(key)) continue;
    // An empty name cannot be a key of a stored map on every DynamoDB: left out, so the event is stored.
    else if (key === "" || isOmitted(key, omitClaims)) omitted.push(key);
    else kept[key] = value;
  }
  return { tags: kept, omitted: omitted.sort() };
}

export function recordedContext(context: DecisionInput["context"]): RecordedContext {
  const at = new Date(context.nowMs);
  return {
    sourceIp: context.sourceIp,
    now: Math.floor(context.nowMs / 1000),
    hourUtc: at.getUTCHours(),
    weekdayUtc: at.getUTCDay(),
    durationSeconds: context.durationSeconds,
    purpose: context.purpose,
  };
}

/** The input of a decision Cedar made (the one finally decided on, with the signals as read). */
export function recordDecision(
  input: DecisionInput,
  issuer: string,
  allowed: boolean,
  omitClaims: readonly string[],
): RecordedInput {
  const { tags, omitted } = recordableTags(input.tags, omitClaims);
  return {
    issuer,
    subject: input.workload.subject,
    workload: input.workload.name,
    task: input.task.name,
    tags,
    ...(omitted.length > 0 ? { omittedClaims: omitted } : {}),
    context: recordedContext(input.context),
    decided: allowed ? "allow" : "deny",
  };
}

/** The input of a request refused before the policies were asked: an unregistered or disabled workload. */
export function recordRefusal(
  facts: {
    issuer: string;
    subject: string;
    workload?: string | undefined;
    task: string;
    claimTags: Record<string, string>;
    context: DecisionInput["context"];
  },
  omitClaims: readonly string[],
): RecordedInput {
  const { tags, omitted } = recordableTags(facts.claimTags, omitClaims);
  return {
    issuer: facts.issuer,
    subject: facts.subject,
    ...(facts.workload !== undefined ? { workload: facts.workload } : {}),
    task: facts.task,
    tags,
    ...(omitted.length > 0 ? { omittedClaims: omitted } : {}),
    signalsRead: false,
    context: recordedContext(facts.context),
    decided: "deny",
  };
}
