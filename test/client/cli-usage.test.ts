// The client commands' usage text names exactly the flags they accept, in `credbroker --help`, in the usage a
// mistyped flag prints, and in the README's and docs/clients.md's CLI blocks.
import { readFile } from "node:fs/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { CLIENT_OPTIONS } from "../../lib/cli/client-common.ts";
import { runCli } from "./run-cli.ts";

const accepted: Record<string, string[]> = {
  "credential-process": Object.keys(CLIENT_OPTIONS),
  exchange: [...Object.keys(CLIENT_OPTIONS), "format"],
};
const flags = (line: string) =>
  [...new Set([...line.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!))].sort();
const squash = (text: string) => text.replace(/\s+/g, " ").trim();

let help: string;
beforeAll(async () => {
  const run = await runCli(["--help"]);
  expect(run.code).toBe(0);
  help = run.stdout;
});

/** The commands in a code block: each `credbroker …` line joined with its indented continuation lines. */
const commands = (block: string) => block.split(/\n(?=credbroker )/).map(squash);
const helpLine = (command: string) =>
  squash(help.split("\n").find((l) => l.trim().startsWith(`${command} `))!);

describe.each(Object.keys(accepted))("credbroker %s usage", (command) => {
  it("in --help names every flag the command accepts and no other", () => {
    expect(flags(helpLine(command))).toEqual([...accepted[command]!].sort());
  });

  it("printed after a mistyped flag is the same line", async () => {
    const run = await runCli([command, "--bogus"]);
    expect(run.code).toBe(2);
    const printed = run.stderr.split("\n").find((l) => l.startsWith(`usage: credbroker ${command} `))!;
    expect(squash(printed.replace("usage: credbroker ", ""))).toBe(helpLine(command));
  });

  it.each(["README.md", "docs/clients.md"])("in %s is the line --help prints", async (file) => {
    const text = await readFile(file, "utf8");
    const blocks = [...text.matchAll(/^```\n(credbroker [\s\S]*?)^```$/gm)].map((m) => m[1]!);
    const documented = blocks.flatMap(commands).filter((c) => c.startsWith(`credbroker ${command} --url `));
    expect(documented.length).toBeGreaterThan(0);
    for (const line of documented) expect(line).toBe(`credbroker ${helpLine(command)}`);
  });
});
