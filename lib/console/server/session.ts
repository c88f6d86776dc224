// Who may use the console: the holder of the random token it printed, then the browser that visited with
// it (a session cookie, HttpOnly and SameSite=Strict, so links work without the token and no other site's
// page can send it). Requests for any Host other than the console's own loopback name are refused, so a
// DNS-rebinding page (evil.example resolving to 127.0.0.1) gets nothing. Every write also needs the
// session's CSRF token, which only the console's own pages carry.
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

/** 32 random bytes (256 bits), URL-safe. */
export const randomSecret = (): string => randomBytes(32).toString("base64url");

export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface Session {
  id: string;
  csrf: string;
}

export class ConsoleSessions {
  /** The token in the printed URL; it stays valid while the console runs (open it in another browser). */
  readonly token = randomSecret();
  private readonly sessions = new Map<string, Session>();

  constructor(
    /** The port the console is reached on: part of the allowed Host and of the cookie's name. */
    private readonly port: () => number,
    /** The path the console is served under ("/" alone, "/console/" inside `credbroker dev`). */
    readonly basePath: string,
  ) {}

  /** Cookies are not kept apart by port: the name carries it, so two consoles on one host do not collide. */
  get cookieName(): string {
    return `credbroker_console_${this.port()}`;
  }

  /** Host must be exactly 127.0.0.1:<port> or localhost:<port> (HTTP/1.1 always sends it). */
  hostAllowed(req: IncomingMessage): boolean {
    const host = req.headers.host;
    const port = this.port();
    return host === `127.0.0.1:${port}` || host === `localhost:${port}`;
  }

  /** A new session for a visit that carried the token. */
  open(token: string | null): Session | undefined {
    if (token === null || !sameSecret(token, this.token)) return undefined;
    const session = { id: randomSecret(), csrf: randomSecret() };
    this.sessions.set(session.id, session);
    return session;
  }

  fromCookie(req: IncomingMessage): Session | undefined {
    const id = cookie(req, this.cookieName);
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    return session && sameSecret(id, session.id) ? session : undefined;
  }

  setCookie(session: Session): string {
    return `${this.cookieName}=${session.id}; Path=${this.basePath}; HttpOnly; SameSite=Strict`;
  }
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
