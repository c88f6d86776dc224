// What the authorizer needs to know about a policy beyond its text, read from Cedar's JSON form of it: the
// task its scope pins, and the tag keys it can read. Worked out when policies are compiled (and so shipped
// in the Lambda's precompiled bundle), so that a cold start does not run Cedar's parser once per policy.
import type * as cedar from "@cedar-policy/cedar-wasm/nodejs";

export type PolicyJson = Extract<ReturnType<typeof cedar.policyToJson>, { type: "success" }>["json"];

/** The task a policy's scope pins (`resource == Task::"x"`); undefined when it may apply to any task. */
export function scopedTaskOf(json: PolicyJson | undefined): string | undefined {
  if (!json) return undefined;
  const resource = json.resource;
  if (resource.op !== "==" || !("entity" in resource)) return undefined;
  const uid = "__entity" in resource.entity ? resource.entity.__entity : resource.entity;
  return uid.type === "Task" ? uid.id : undefined;
}

/**
 * The tag keys a policy can read (`hasTag`/`getTag` with a string literal), or "any" when a key is computed
 * (or the policy's JSON form is unknown): then every tag must be passed.
 */
export function tagKeysOf(json: PolicyJson | undefined): string[] | "any" {
  if (!json) return "any";
  const keys = new Set<string>();
  let any = false;
  const walk = (node: unknown): void => {
    if (any || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const n of node) walk(n);
      return;
    }
    for (const [op, value] of Object.entries(node)) {
      if ((op === "hasTag" || op === "getTag") && value && typeof value === "object") {
        const key = (value as { right?: { Value?: unknown } }).right?.Value;
        if (typeof key === "string") keys.add(key);
        else any = true;
      }
      walk(value);
    }
  };
  walk(json.conditions);
  return any ? "any" : [...keys].sort();
}
