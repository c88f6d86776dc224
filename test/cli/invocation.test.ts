// Commands the CLI prints for the user to run (the approve command, `dev token`) start the way this CLI
// was started: `node bin/credbroker.js` in a checkout, `credbroker` once installed.
import { describe, expect, it } from "vitest";
import { cliCommand } from "../../lib/cli/invocation.ts";

describe("the command the CLI prints for itself", () => {
  it.each([
    [
      "a checkout, from its root",
      "/home/u/credbroker/bin/credbroker.js",
      "/home/u/credbroker",
      "node bin/credbroker.js",
    ],
    [
      "a checkout, from a subfolder",
      "/home/u/credbroker/bin/credbroker.js",
      "/home/u/credbroker/bin",
      "node credbroker.js",
    ],
    [
      "a checkout, from elsewhere",
      "/home/u/credbroker/bin/credbroker.js",
      "/tmp",
      "node /home/u/credbroker/bin/credbroker.js",
    ],
    [
      "the installed package's bin",
      "/usr/lib/node_modules/credbroker/dist/cli/credbroker.js",
      "/tmp",
      "credbroker",
    ],
    ["a bin link on PATH", "/usr/local/bin/credbroker", "/tmp", "credbroker"],
  ])("in %s", (_, script, cwd, expected) => {
    expect(cliCommand(script, cwd)).toBe(expected);
  });
});
