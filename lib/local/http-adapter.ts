// Serves the Lambda handlers from a Node HTTP server by building the same API Gateway v2 event. The source
// IP is the socket's address: forwarding headers are never trusted.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLarge, DependencyUnavailable } from "../core/errors.ts";
import { MAX_BODY_BYTES } from "../core/params.ts";
import type { HttpEvent, HttpResult } from "../http/apigw.ts";
import { errorResult } from "../http/handlers.ts";

export type Route = (event: HttpEvent) => Promise<HttpResult>;

/**
 * The body, read with plain stream events (an async iterator costs a promise per chunk on every request).
 * "too-large" once it passes the limit; a chunked body that never ends stops being read well past it.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
      if (size > limit * 16) {
        // As before: the request (and so its connection) is dropped.
        req.off("data", onData);
        req.destroy();
        resolve("too-large");
      }
    };
    req.on("data", onData);
    req.once("end", () => resolve(tooLarge ? "too-large" : Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

async function readEvent(req: IncomingMessage, limitFor: BodyLimit): Promise<HttpEvent | "too-large"> {
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const limit = limitFor(q < 0 ? url : url.slice(0, q));
  // A declared length over the limit is refused without reading the body.
  if (Number(req.headers["content-length"] ?? 0) > limit) return "too-large";
  const body = await readBody(req, limit);
  if (body === "too-large") return "too-large";
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  const sourceIp = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
  return {
    version: "2.0",
    rawPath: q < 0 ? url : url.slice(0, q),
    rawQueryString: q < 0 ? "" : url.slice(q + 1),
    headers,
    body: body.toString("base64"),
    isBase64Encoded: true,
    requestContext: {
      requestId: randomUUID(),
      http: { method: req.method ?? "GET", path: q < 0 ? url : url.slice(0, q), sourceIp },
    },
  };
}

const pathOf = (req: IncomingMessage) => (req.url ?? "/").split("?")[0]!;

function writeResult(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.statusCode, { ...result.headers, "content-length": Buffer.byteLength(result.body) });
  res.end(result.body);
}

/** The body limit of a path: the OAuth routes' 64 KiB unless a route allows more (webhooks: 1 MiB). */
export type BodyLimit = (path: string) => number;

export function serve(
  route: (event: HttpEvent) => Promise<HttpResult>,
  limitFor: BodyLimit = () => MAX_BODY_BYTES,
) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const event = await readEvent(req, limitFor);
      if (event === "too-large") {
        // The unread rest of the body makes the connection unusable for another request: close it.
        const result = errorResult(new BodyTooLarge(limitFor(pathOf(req))));
        result.headers["connection"] = "close";
        writeResult(res, result);
        return;
      }
      writeResult(res, await route(event));
    } catch {
      if (!res.headersSent) writeResult(res, errorResult(new DependencyUnavailable("dev server")));
      else res.destroy();
    }
  };
}
