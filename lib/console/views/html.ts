// The console's HTML template layer: a tagged template that escapes every interpolated value unless it is
// already Html made by this same tag. Workload names, subjects, purposes and reasons come from untrusted
// tokens and configs, so escaping is the default and opting out has to be spelled (`trusted`).
// Chosen over a library: ~40 lines with no dependency, no runtime template compiler (so nothing that
// needs `unsafe-eval` under the page's CSP), and a type that makes "already escaped" visible.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** html`<td>${name}</td>`: text is escaped (element content and quoted attribute values alike). */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup this program made itself (its own bundled script and stylesheet): never untrusted text. */
export const trusted = (text: string): Html => new Html(text);

/**
 * Data for the page's script as an inert JSON block. `<` is written as \u003c so that no value (a
 * workload named `</script>`) can close the element; U+2028/9 are escaped for old JSON-in-JS parsers.
 */
export function jsonBlock(id: string, data: unknown): Html {
  const json = JSON.stringify(data)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
  return html`<script type="application/json" id="${id}">${trusted(json)}</script>`;
}

/** A query string from defined values, each encoded. */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}
