// The console's request handling: the gate (Host, then token or session cookie), the routes of each view,
// and the one write (revoke a grant, with the session's CSRF token). It reads through the store and the
// core report the CLI uses and revokes through the core's revokeGrant, audited with actor `console`.
import type { IncomingMessage, ServerResponse } from "node:http";
import { approvalView } from "../../core/approvals/request.ts";
import type { GrantStatus } from "../../core/grant.ts";
import { TRANSITIONS } from "../../core/grant.ts";
import type { InventoryStore } from "../../core/inventory/store.ts";
import { PROVIDER_TRAITS } from "../../core/providers/traits.ts";
import type { ReevaluateDeps } from "../../core/reevaluate.ts";
import { revokeGrant } from "../../core/revoke-grant.ts";
import { isSafeText } from "../../core/text.ts";
import { browserAssets } from "../assets.ts";
import { auditRow } from "../views/audit-row.ts";
import {
  approvalsBody,
  auditBody,
  grantBody,
  grantHref,
  grantsBody,
  messageBody,
  OVERVIEW_REFRESH_SECONDS,
  overviewBody,
} from "../views/console-pages.ts";
import type { Html } from "../views/html.ts";
import { type ConsoleView, consolePage } from "../views/layout.ts";
import type { PendingApproval } from "../views/report-input.ts";
import { LIVE_OVERLAP_MS, recentAudit, SHOWN_EVENTS } from "./audit-feed.ts";
import { grantPage, grantTrail } from "./grant-listing.ts";
import { overviewModel } from "./overview.ts";
import { ConsoleSessions, type Session, sameSecret } from "./session.ts";

export interface ConsoleDeps
  extends Pick<
    ReevaluateDeps,
    "config" | "configVersion" | "policies" | "store" | "providers" | "clock" | "log"
  > {
  /** The table's name, shown in the page header. */
  table: string;
  /**
   * Pending approval requests (CONTRACT §10, the `GET /approvals` items). Absent while the broker has no
   * approvals: the approvals view then says none are configured.
   */
  approvals?: { pending(): Promise<PendingApproval[]> };
  /** The inventory's snapshots (CONTRACT §9), for the overview's debt section; without it the section is empty. */
  inventory?: InventoryStore;
}

/**
 * Pending requests from the store's approvals, as `GET /approvals` lists them, when some task of the config
 * needs approval; otherwise none (the view says no approvals are configured).
 */
function approvalsSource(deps: ConsoleDeps): ConsoleDeps["approvals"] {
  if (deps.approvals) return deps.approvals;
  const approvals = deps.store.approvals;
  if (!approvals || !deps.config.tasks.some((t) => t.approval)) return undefined;
  return {
    pending: async () => {
      const nowMs = deps.clock.now();
      return (await approvals.listPending())
        .map((r) => approvalView(r, nowMs))
        .filter((v) => v.status === "pending");
    },
  };
}

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join("; ");

const HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // The token is in the first URL: never hand it to another site in a Referer. (Not no-referrer: under it
  // Chromium sends `Origin: null` on the console's own form posts, and the origin check needs the origin.)
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
};

const MAX_FORM_BYTES = 16 * 1024;
const STATUSES = Object.keys(TRANSITIONS) as GrantStatus[];

export interface ConsoleApp {
  sessions: ConsoleSessions;
  /** The URL to open: the base path with the token. */
  url(origin: string): string;
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  type: string,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, {
    ...HEADERS,
    "content-type": type,
    "content-length": Buffer.byteLength(body),
    ...extra,
  });
  res.end(body);
}

const unauthorized = (res: ServerResponse) =>
  send(
    res,
    401,
    "401: open the URL that `credbroker console` printed (it carries the console's token).\n",
    "text/plain; charset=utf-8",
  );

async function readForm(req: IncomingMessage): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_FORM_BYTES) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** A grant id from the path; a malformed escape is simply no grant's id. */
function decodeId(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function createConsoleApp(
  deps: ConsoleDeps,
  options: { basePath?: string; port: () => number },
): ConsoleApp {
  const base = options.basePath ?? "/";
  const sessions = new ConsoleSessions(options.port, base);
  const now = () => deps.clock.now();
  const approvals = approvalsSource(deps);

  const page = (res: ServerResponse, status: number, view: ConsoleView, title: string, body: Html) =>
    send(
      res,
      status,
      consolePage({
        base,
        title,
        view,
        body,
        table: deps.table,
        ...(view === "overview" && status === 200 ? { refreshSeconds: OVERVIEW_REFRESH_SECONDS } : {}),
      }).text,
      "text/html; charset=utf-8",
    );

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, rel: string, session: Session) {
    const method = req.method ?? "GET";
    const revokeMatch = /^grants\/([^/]+)\/revoke$/.exec(rel);
    if (revokeMatch) {
      if (method !== "POST") return send(res, 405, "405\n", "text/plain", { allow: "POST" });
      return revoke(req, res, decodeId(revokeMatch[1]!), session);
    }
    if (method !== "GET" && method !== "HEAD") return send(res, 405, "405\n", "text/plain", { allow: "GET" });
    const grantMatch = /^grants\/([^/]+)$/.exec(rel);
    if (grantMatch) return grant(res, decodeId(grantMatch[1]!), session, url.searchParams);
    switch (rel) {
      case "": {
        const days = [7, 30, 90].includes(Number(url.searchParams.get("days")))
          ? Number(url.searchParams.get("days"))
          : 30;
        const [{ report, live }, pendingApprovals] = await Promise.all([
          overviewModel(deps, days, now()),
          approvals ? approvals.pending() : undefined,
        ]);
        return page(
          res,
          200,
          "overview",
          "Overview",
          overviewBody({ ...report, ...(pendingApprovals ? { pendingApprovals } : {}) }, days, live),
        );
      }
      case "grants": {
        const q = url.searchParams;
        const status = q.get("status") || undefined;
        if (status && !STATUSES.includes(status as GrantStatus))
          return page(
            res,
            400,
            "grants",
            "Grants",
            messageBody(`status must be one of ${STATUSES.join(", ")}`),
          );
        const filter = {
          status: status as GrantStatus | undefined,
          workload: q.get("workload")?.trim() || undefined,
          task: q.get("task")?.trim() || undefined,
        };
        const cursor = q.get("cursor") || undefined;
        let result: Awaited<ReturnType<typeof grantPage>>;
        try {
          result = await grantPage(
            deps.store,
            filter,
            cursor,
            deps.config.workloads.map((w) => w.name),
          );
        } catch (err) {
          if (err instanceof TypeError)
            return page(
              res,
              400,
              "grants",
              "Grants",
              messageBody("That page link is not valid; start from the first page."),
            );
          throw err;
        }
        return page(
          res,
          200,
          "grants",
          "Grants",
          grantsBody({ base, grants: result.items, filter, cursor, next: result.cursor }),
        );
      }
      case "audit": {
        const hours = [1, 24, 168, 720].includes(Number(url.searchParams.get("hours")))
          ? Number(url.searchParams.get("hours"))
          : 24;
        const nowMs = now();
        const events = await recentAudit(deps.store, nowMs - hours * 3_600_000, nowMs);
        return page(
          res,
          200,
          "audit",
          "Audit",
          auditBody({ base, events: events.slice(0, SHOWN_EVENTS), hours, total: events.length }),
        );
      }
      case "api/audit": {
        const nowMs = now();
        const after = Date.parse(url.searchParams.get("after") ?? "");
        // Only a recent window: the page already holds everything older.
        const since = Math.max(Number.isNaN(after) ? nowMs : after - LIVE_OVERLAP_MS, nowMs - 3_600_000);
        const events = (await recentAudit(deps.store, since, nowMs)).reverse().slice(-SHOWN_EVENTS);
        const body = JSON.stringify({
          events: events.map((e) => ({
            ...auditRow(e),
            grantHref: e.grantId ? grantHref(base, e.grantId) : "",
          })),
        });
        return send(res, 200, body, "application/json");
      }
      case "approvals": {
        const pending = approvals ? await approvals.pending() : undefined;
        return page(res, 200, "approvals", "Approvals (pending)", approvalsBody(pending));
      }
      case "assets/console.js":
        return send(res, 200, (await browserAssets()).js, "text/javascript; charset=utf-8");
      case "assets/console.css":
        return send(res, 200, (await browserAssets()).css, "text/css; charset=utf-8");
      default:
        return page(res, 404, "overview", "Not found", messageBody("No such page."));
    }
  }

  async function grant(
    res: ServerResponse,
    id: string,
    session: Session,
    q: URLSearchParams,
    notice?: { text: string; error?: boolean },
    status = 200,
  ) {
    const g = await deps.store.getGrant(id);
    if (!g) return page(res, 404, "grants", "Grant not found", messageBody(`No grant ${id}.`));
    const trail = await grantTrail(deps.store, g, now());
    const shown =
      notice ??
      (q.get("revoked") === "1"
        ? {
            text: g.revocationPending
              ? `Revoked; ${PROVIDER_TRAITS[g.provider].pendingRevocation}.`
              : "Revoked.",
          }
        : undefined);
    return page(
      res,
      status,
      "grants",
      `Grant ${g.grantId}`,
      grantBody({
        base,
        grant: g,
        trail: trail.events,
        approval: trail.approval,
        csrf: session.csrf,
        notice: shown,
      }),
    );
  }

  async function revoke(req: IncomingMessage, res: ServerResponse, id: string, session: Session) {
    // A browser sends Origin with every POST: one from another origin is refused before the body is read.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`)
      return send(res, 403, "403: cross-origin request refused\n", "text/plain");
    const form = await readForm(req);
    if (!form) return send(res, 413, "413: form too large\n", "text/plain");
    if (!sameSecret(form.get("csrf") ?? undefined, session.csrf))
      return send(
        res,
        403,
        "403: the form's CSRF token is missing or wrong; reload the grant's page\n",
        "text/plain",
      );
    const q = new URLSearchParams();
    const reason = (form.get("reason") ?? "").trim();
    if (reason.length === 0 || reason.length > 256 || !isSafeText(reason))
      return grant(
        res,
        id,
        session,
        q,
        { text: "Give a reason (up to 256 printable characters, no controls or bidi marks).", error: true },
        400,
      );
    const g = await deps.store.getGrant(id);
    if (!g) return page(res, 404, "grants", "Grant not found", messageBody(`No grant ${id}.`));
    if (g.status !== "active")
      return grant(
        res,
        id,
        session,
        q,
        { text: `This grant is ${g.status}, not active: nothing to revoke.`, error: true },
        409,
      );
    const revoked = await revokeGrant(
      { store: deps.store, providers: deps.providers, clock: deps.clock, log: deps.log },
      g,
      { reason, kind: "admin", actor: "console" },
    );
    if (!revoked)
      return grant(
        res,
        id,
        session,
        q,
        { text: "The grant changed while revoking it; see its status.", error: true },
        409,
      );
    deps.log.info("console revoked a grant", { grantId: id });
    res.writeHead(303, { ...HEADERS, location: `${grantHref(base, id)}?revoked=1`, "content-length": 0 });
    res.end();
  }

  return {
    sessions,
    url: (origin) => `${origin}${base}?token=${sessions.token}`,
    async handle(req, res) {
      try {
        const url = new URL(req.url ?? "/", "http://console.invalid");
        // Refused before anything else, even a wrong path: a rebound name learns nothing.
        if (!sessions.hostAllowed(req)) return unauthorized(res);
        const path = url.pathname;
        if (`${path}/` === base)
          return send(res, 308, "", "text/plain", { location: `${base}${url.search}` });
        if (!path.startsWith(base)) return send(res, 404, "404\n", "text/plain");
        const rel = path.slice(base.length);
        const token = url.searchParams.get("token");
        if (token !== null) {
          const session = sessions.open(token);
          if (!session) return unauthorized(res);
          // The token leaves the address bar (and history) at once; the cookie carries the session.
          url.searchParams.delete("token");
          res.writeHead(303, {
            ...HEADERS,
            "set-cookie": sessions.setCookie(session),
            location: `${path}${url.search}`,
            "content-length": 0,
          });
          res.end();
          return;
        }
        const session = sessions.fromCookie(req);
        if (!session) return unauthorized(res);
        await route(req, res, url, rel, session);
      } catch (err) {
        deps.log.error("console request failed", {
          error: (err as Error).name,
          detail: (err as Error).message,
        });
        if (!res.headersSent)
          send(res, 503, "503: the console could not read the table; try again\n", "text/plain");
        else res.destroy();
      }
    },
  };
}
