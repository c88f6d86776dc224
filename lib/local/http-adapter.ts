// Serves the Lambda handlers from a Node HTTP server by building the same API Gateway v2 event. The source
// IP is the socket's address: forwarding headers are never trusted.

import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { BodyTooLarge, DependencyUnavailable } from "../core/errors.ts";
import { MAX_BODY_BYTES } from "../core/params.ts";
import type { HttpEvent, HttpResult } from "../http/apigw.ts";
import { errorResult } from "../http/handlers.ts";

export type Route = (event: HttpEvent) => Promise<HttpResult>;

async function readEvent(req: IncomingMessage): Promise<HttpEvent | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  // A declared length over the limit is refused without reading the body.
  if (Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES) return "too-large";
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk as Buffer);
    // A chunked body that never ends must not keep the server reading: stop well past the limit.
    if (size > MAX_BODY_BYTES * 16) break;
  }
  if (tooLarge) return "too-large";
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;
  const body = Buffer.concat(chunks);
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

function writeResult(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.statusCode, { ...result.headers, "content-length": Buffer.byteLength(result.body) });
  res.end(result.body);
}

export function serve(route: (event: HttpEvent) => Promise<HttpResult>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const event = await readEvent(req);
      if (event === "too-large") {
        // The unread rest of the body makes the connection unusable for another request: close it.
        const result = errorResult(new BodyTooLarge(MAX_BODY_BYTES));
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
