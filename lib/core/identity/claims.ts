// Subject-token claims as Cedar tags (CONTRACT §3): nested objects flattened with '.', anything that is
// not a string as its JSON text, so a policy compares strings only.

const MAX_DEPTH = 8;

export function claimsToTags(claims: Record<string, unknown>): Record<string, string> {
  const tags: Record<string, string> = {};
  const walk = (prefix: string, value: unknown, depth: number) => {
    if (value !== null && typeof value === "object" && !Array.isArray(value) && depth < MAX_DEPTH) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        walk(prefix ? `${prefix}.${k}` : k, v, depth + 1);
      return;
    }
    if (prefix.startsWith("signal:")) return; // signals come from the store only, never from a token
    tags[prefix] = typeof value === "string" ? value : JSON.stringify(value);
  };
  for (const [k, v] of Object.entries(claims)) walk(k, v, 0);
  return tags;
}

export function signalsToTags(signals: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(signals)) tags[`signal:${k}`] = v;
  return tags;
}
