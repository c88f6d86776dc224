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
  if (mediaType === "application/x-www-form-urlencoded") return parseForm(decodeUtf8(body, formPart));
  if (mediaType === "application/json") return parseJson(decodeUtf8(body, () => "body"));
  throw new UnsupportedMediaType();
}

// Bytes that are not UTF-8 are refused, not replaced with U+FFFD: a replaced value would be decided on and
// stored as something the caller never sent. A BOM is kept as a character (ignoreBOM), so it is not
// silently dropped either: it is part of what the caller sent, and JSON.parse refuses it.
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function decodeUtf8(body: Buffer, culprit: (body: Buffer) => string): string {
  try {
    return STRICT_UTF8.decode(body);
  } catch {
    throw new MalformedParameter(culprit(body), "is not valid UTF-8");
  }
}

/**
 * The name of the first form parameter whose raw bytes are not UTF-8. '&' and '=' are ASCII and never occur
 * inside a multi-byte sequence, so the body splits on them safely before decoding.
 */
function formPart(body: Buffer): string {
  for (const pair of body.toString("latin1").split("&")) {
    const bytes = Buffer.from(pair, "latin1");
    try {
      STRICT_UTF8.decode(bytes);
    } catch {
      const eq = pair.indexOf("=");
      const rawName = Buffer.from(eq < 0 ? pair : pair.slice(0, eq), "latin1");
      try {
        return safeName(decodeURIComponent(STRICT_UTF8.decode(rawName).replace(/\+/g, " ")));
      } catch {
        return "a";
      }
    }
  }
  return "body";
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
