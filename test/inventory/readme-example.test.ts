// The README's inventory example, run as written: its commands, with the files and the config shipped in
// examples/inventory/, give the debt section the README shows. The files are the scenario of scenario.ts
// (dated 2026-11-30), so the run's clock is that day's.
import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { DynamoGrantStore } from "../../lib/aws/dynamodb-store.ts";
import { DynamoInventoryStore } from "../../lib/aws/inventory-store.ts";
import { ensureTable } from "../../lib/aws/table-definition.ts";
import { inventoryCommand } from "../../lib/cli/inventory.ts";
import { reportCommand } from "../../lib/cli/report.ts";
import { fixedClock } from "../../lib/core/clock.ts";
import { capture } from "../governance/capture.ts";
import { closeSharedDynamo, NOW, sharedDynamo } from "../support/broker.ts";
import { authorizationDetails, credentialReportCsv } from "./scenario.ts";

afterAll(closeSharedDynamo);

/** The README's example block: its `$ ` commands, and what it shows the last one printing. */
function readmeExample(): { commands: string[][]; shown: string } {
  const readme = readFileSync("README.md", "utf8");
  const start = readme.indexOf("### The debt in IAM");
  const block = /```\n([\s\S]*?)```/.exec(readme.slice(start))![1]!;
  const lines = block.split("\n");
  const commands = lines.filter((l) => l.startsWith("$ ")).map((l) => words(l.slice(2)));
  const shown = lines.filter((l) => !l.startsWith("$ ")).join("\n");
  return { commands, shown };
}

/** A shell line's words: spaces split them, double quotes group them. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

describe("the README's inventory example", () => {
  it("ships the scenario's files as they are", () => {
    expect(readFileSync("examples/inventory/credential-report.csv", "utf8")).toBe(
      `${credentialReportCsv()}\n`,
    );
    expect(JSON.parse(readFileSync("examples/inventory/authorization-details.json", "utf8"))).toEqual(
      authorizationDetails(),
    );
  });

  it("prints the debt the README shows when its commands are run as written", async () => {
    const d = await sharedDynamo();
    const tableName = `readme-inventory-${process.pid}`;
    await ensureTable(d.client, tableName);
    const grants = new DynamoGrantStore({ client: d.client, tableName });
    const inventory = new DynamoInventoryStore(d.client, tableName);
    const clock = fixedClock(NOW);
    const env: NodeJS.ProcessEnv = { USER: "reader" };
    const { commands, shown } = readmeExample();
    expect(commands.length).toBeGreaterThanOrEqual(3);
    let last = "";
    for (const argv of commands) {
      if (argv[0] === "export") {
        const [name, value] = argv[1]!.split("=") as [string, string];
        env[name] = value;
        continue;
      }
      expect(argv.slice(0, 2), "a command of the checkout's CLI").toEqual(["node", "bin/credbroker.js"]);
      const [command, ...args] = argv.slice(2);
      const io = capture(env);
      if (command === "inventory")
        await inventoryCommand(args, io, async () => ({
          store: inventory,
          clock,
          live: async () => {
            throw new Error("the example reads files, not IAM");
          },
        }));
      else if (command === "report")
        await reportCommand(
          args,
          io,
          async () => grants,
          () => clock.now(),
          async () => inventory,
        );
      else throw new Error(`the example runs ${command}, which this test does not know`);
      last = io.stdout();
    }
    // The README shows the report's debt section: from its heading to the next section.
    const debt = /^INVENTORY DEBT[\s\S]*?(?=\n\n[A-Z])/m.exec(last)?.[0];
    expect(debt).toBe(shown.trimEnd());
  });
});
