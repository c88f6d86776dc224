// Where command output goes, passed in so tests capture it.
import { escapeUnsafeText } from "../core/text.ts";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
};

/** Cells are escaped: stored free text (a purpose, a reason) must not rewrite the terminal that shows it. */
export function table(raw: Record<string, string>[], columns: string[]): string {
  if (raw.length === 0) return "(none)\n";
  const rows = raw.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, escapeUnsafeText(v)])),
  );
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? "").length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()}\n`;
  return (
    line(columns.map((c) => c.toUpperCase())) + rows.map((r) => line(columns.map((c) => r[c] ?? ""))).join("")
  );
}
