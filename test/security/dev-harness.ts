// `credbroker dev` for the security and stress suites: the demo config and policies, copied into a temp dir
// and pointed at the server's own port so the dev issuer is trusted; logs captured as JSON lines.
import { mkdtemp } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DevBroker, type DevOptions, startDev } from "../../lib/local/dev-server.ts";
import { captureLogger, demoConfigFor, freePort } from "../support/dev.ts";

export interface DevHarness {
  dev: DevBroker;
  dataDir: string;
  configPath: string;
  logs: string[];
  mint(sub: string, claims?: Record<string, unknown>): Promise<string>;
}

export async function startDevHarness(options: Partial<DevOptions> = {}): Promise<DevHarness> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "cb-sec-")));
  const port = options.port ?? (await freePort());
  const configPath = await demoConfigFor(dataDir, port);
  const logs: string[] = [];
  const dev = await startDev({
    inMemory: true,
    sweepIntervalSeconds: 0,
    dynamoPort: 0,
    ...options,
    configPath,
    port,
    dataDir,
    log: options.log ?? captureLogger(logs),
  });
  return {
    dev,
    dataDir,
    configPath,
    logs,
    async mint(sub, claims = {}) {
      const res = await fetch(`${dev.url}/dev/issuer/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sub, claims }),
      });
      return ((await res.json()) as { token: string }).token;
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request with the path exactly as given (fetch would normalise `..` and `%2e`). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const headers = { ...options.headers };
    // Node sends GET/DELETE/OPTIONS/TRACE bodies without framing unless told the length.
    if (
      options.body !== undefined &&
      !Object.keys(headers).some((k) => k.toLowerCase() === "transfer-encoding")
    )
      headers["content-length"] = String(Buffer.byteLength(options.body));
    const req = request(
      { hostname, port, method: options.method ?? "POST", path: options.path, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

export const TOKEN_EXCHANGE_FORM = (
  subjectToken: string,
  scope = "read-reports",
  extra: Record<string, string> = {},
) =>
  new URLSearchParams({
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token: subjectToken,
    subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
    scope,
    ...extra,
  }).toString();
