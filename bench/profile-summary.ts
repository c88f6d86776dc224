// `npx tsx bench/profile-summary.ts FILE.cpuprofile [--top N]`: where a CPU profile's time went, by
// package (this repository's own code split by folder), plus the hottest functions. Used to find what
// is ours when a figure misses its goal (BENCHMARKS.md, "Profiling").
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function groupOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName.startsWith("wasm-function") || functionName.includes("Wasm")) return "cedar (wasm)";
    return `(${functionName || "native"})`;
  }
  if (url.startsWith("wasm://")) return "cedar (wasm)";
  if (url.startsWith("node:")) return "node internals";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    const name = rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
    if (name.startsWith("@aws-sdk/") || name.startsWith("@smithy/")) return "AWS SDK";
    if (
      [
        "dynalite",
        "levelup",
        "leveldown",
        "memdown",
        "abstract-leveldown",
        "level-sublevel",
        "lazy",
      ].includes(name)
    )
      return "dynalite";
    return name;
  }
  const m = /\/(lib\/[^/]+|test\/fixtures|bench|lambdas)\//.exec(url);
  return m ? `ours: ${m[1]}` : url.split("/").slice(-2).join("/");
}

export function summarize(profile: Profile, top = 15): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += us;
    const g = groupOf(url, functionName);
    groups.set(g, (groups.get(g) ?? 0) + us);
    const f = `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
    fns.set(f, (fns.get(f) ?? 0) + us);
  }
  const pct = (us: number) =>
    `${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms`;
  const lines = [`total ${(total / 1000).toFixed(0)} ms of samples`, "", "self time by package:"];
  for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1])) lines.push(`  ${pct(us)}  ${g}`);
  lines.push("", `hottest ${top} functions (self time):`);
  for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(us)}  ${f}`);
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: "string", default: "15" } },
  });
  for (const file of positionals) {
    process.stdout.write(
      `${file}\n${summarize(JSON.parse(await readFile(file, "utf8")) as Profile, Number(values.top))}\n\n`,
    );
  }
}
