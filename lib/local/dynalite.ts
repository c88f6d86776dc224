// An embedded DynamoDB-compatible engine on a loopback port, for `credbroker dev` and the tests.
import type { AddressInfo } from "node:net";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
// @ts-expect-error dynalite ships no types
import dynalite from "dynalite";

export interface LocalDynamo {
  endpoint: string;
  client: DynamoDBClient;
  close(): Promise<void>;
}

export interface LocalDynamoOptions {
  port?: number;
  /** A directory for a persistent table (LevelDB); in memory when absent. */
  path?: string;
}

export async function startLocalDynamo(options: LocalDynamoOptions = {}): Promise<LocalDynamo> {
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localDynamoClient(endpoint);
  return {
    endpoint,
    client,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.close(() => resolve());
        // Keep-alive sockets would hold close() open.
        server.closeAllConnections?.();
      }),
  };
}

/** An engine someone else runs: closing it only lets go of the client. */
export function remoteDynamo(endpoint: string): LocalDynamo {
  const client = localDynamoClient(endpoint);
  return { endpoint, client, close: async () => client.destroy() };
}

/**
 * A client for a local engine: fixed dummy credentials and region, so no AWS config is needed. Requests
 * time out, so a stalled engine turns into a 503 instead of a request that never ends.
 */
export function localDynamoClient(
  endpoint: string,
  options: { requestTimeoutMs?: number; maxAttempts?: number } = {},
): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: options.maxAttempts ?? 2,
    // Without throwOnRequestTimeout the SDK only warns when requestTimeout passes and keeps waiting.
    requestHandler: {
      connectionTimeout: 2_000,
      requestTimeout: options.requestTimeoutMs ?? 10_000,
      throwOnRequestTimeout: true,
    },
  });
}
