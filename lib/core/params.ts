// OAuth request bodies: form or JSON, at most 64 KiB. Unrecognised parameters are ignored (RFC 6749 §3.2);
// a parameter given twice is refused, and so is any value that is not a plain string (or number).
import { BodyTooLarge, MalformedParameter, RepeatedParameter, UnsupportedMediaType } from "./errors.ts";

export const MAX_BODY_BYTES = 64 * 1024;

export type Params = Map<string, string>;

export function parseParams(contentType: string | undefined, body: Buffer): Params {
  if (body.length > MAX_BODY_BYTES) throw new BodyTooLarge(MAX_BODY_BYTES);
  const [mediaType = "", ...attrs] = (contentType ?? "").split(";").map((s) => s.trim().toLowerCase());
  const charset = attrs
    .find((a) => a.startsWith("charset="))
    ?.slice(8)
    .replace(/"/g, "");
  if (charset && charset !== "utf-8" && charset !== "utf8") throw new UnsupportedMediaType();
  const text = body.toString("utf8");
  if (mediaType === "application/x-www-form-urlencoded") return parseForm(text);
  if (mediaType === "application/json") return parseJson(text);
  throw new UnsupportedMediaType();
}

function parseForm(text: string): Params {
  const params: Params = new Map();
  for (const pair of text.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    const rawName = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? "" : pair.slice(eq + 1);
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, " "));
      value = decodeURIComponent(rawValue.replace(/\+/g, " "));
    } catch {
      throw new MalformedParameter("body", "is not valid form encoding");
    }
    if (params.has(name)) throw new RepeatedParameter(safeName(name));
    params.set(name, value);
  }
  return params;
}

function parseJson(text: string): Params {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new MalformedParameter("body", "is not valid JSON");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc))
    throw new MalformedParameter("body", "must be a JSON object");
  // JSON.parse keeps the last of two equal keys; OAuth refuses a repeated parameter, so look for one.
  const seen = new Set<string>();
  for (const key of topLevelKeys(text)) {
    if (seen.has(key)) throw new RepeatedParameter(safeName(key));
    seen.add(key);
  }
  const params: Params = new Map();
  for (const [name, value] of Object.entries(doc)) {
    if (typeof value === "string") params.set(name, value);
    else if (typeof value === "number" && Number.isFinite(value)) params.set(name, String(value));
    else if (Array.isArray(value)) throw new RepeatedParameter(safeName(name));
    else params.set(name, "\u0000invalid");
  }
  return params;
}

/** The keys of a JSON object's top level, decoded, in order (the text is already known to be valid JSON). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, end + 1)) as string);
      expectKey = false;
      i = end;
    } else if (ch === "{" || ch === "[") {
      depth++;
      expectKey = depth === 1;
    } else if (ch === "}" || ch === "]") depth--;
    else if (ch === "," && depth === 1) expectKey = true;
  }
  return keys;
}

/** Parameter names are echoed in errors only when they are short and plain. */
function safeName(name: string): string {
  return /^[a-z_]{1,40}$/.test(name) ? name : "a";
}
