// `credbroker dev --peer URL` refuses what cannot work before it starts anything: a peer that is not
// running, a server that is not credbroker dev, and flags that would give the peer a table of its own.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { devCommand } from "../../lib/cli/dev.ts";
import { CliError } from "../../lib/cli/errors.ts";
import { capture } from "../governance/capture.ts";
import { freePort } from "../support/dev.ts";

const refusal = (args: string[]) =>
  devCommand(args, capture()).then(
    () => undefined,
    (e: unknown) => e,
  );

describe("credbroker dev --peer", () => {
  it("names a peer that is not running", async () => {
    const port = await freePort();
    const err = await refusal(["--peer", `http://127.0.0.1:${port}`]);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).message).toBe(
      `cannot reach the peer at http://127.0.0.1:${port}: is credbroker dev running there?`,
    );
  });

  it("refuses a server that does not answer /dev/peer as credbroker dev does", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "application/json" });
      res.end("{}");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect(((await refusal(["--peer", url])) as CliError).message).toBe(
        `${url} does not answer /dev/peer as credbroker dev does`,
      );
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it.each([["--in-memory"], ["--dynamo-endpoint", "http://127.0.0.1:1"]])(
    "refuses --peer with %s",
    async (...flag) => {
      const err = await refusal(["--peer", "http://127.0.0.1:1", ...flag]);
      expect((err as CliError).message).toBe(
        "--peer uses the peer's table: it takes no --dynamo-endpoint or --in-memory",
      );
    },
  );
});
