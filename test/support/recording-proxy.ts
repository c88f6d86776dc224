// A loopback proxy in front of an AWS JSON-protocol endpoint (dynalite here) that records each call's IAM
// action and index, so a test can hold what a function really did against what its role allows.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedCall {
  /** Who made it: whatever the test set as `caller` before the call. */
  caller: string;
  /** The IAM action, e.g. `dynamodb:PutItem` (from the X-Amz-Target header). */
  action: string;
  /** The secondary index a Query or Scan read, if any. */
  index?: string;
}

export interface RecordingProxy {
  endpoint: string;
  calls: RecordedCall[];
  caller: string;
  close(): Promise<void>;
}

const SERVICE_PREFIX: Record<string, string> = { DynamoDB_20120810: "dynamodb", TrentService: "kms" };

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const proxy: RecordingProxy = { endpoint: "", calls: [], caller: "unknown", close: async () => {} };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const [service, operation] = String(req.headers["x-amz-target"] ?? "unknown.unknown").split(".");
      let index: string | undefined;
      try {
        index = (JSON.parse(body.toString()) as { IndexName?: string }).IndexName;
      } catch {
        index = undefined;
      }
      proxy.calls.push({
        caller: proxy.caller,
        action: `${SERVICE_PREFIX[service!] ?? service}:${operation}`,
        ...(index ? { index } : {}),
      });
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
