// `credbroker console`'s own server: loopback only (127.0.0.1), whatever the caller asks.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type ConsoleApp, type ConsoleDeps, createConsoleApp } from "./console-app.ts";

export interface RunningConsole {
  app: ConsoleApp;
  server: Server;
  port: number;
  /** The URL with the token, to print and open. */
  url: string;
  close(): Promise<void>;
}

export async function startConsole(deps: ConsoleDeps, port: number): Promise<RunningConsole> {
  const server = createServer();
  let bound = port;
  const app = createConsoleApp(deps, { port: () => bound });
  server.on("request", (req, res) => void app.handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  bound = (server.address() as AddressInfo).port;
  return {
    app,
    server,
    port: bound,
    url: app.url(`http://127.0.0.1:${bound}`),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
