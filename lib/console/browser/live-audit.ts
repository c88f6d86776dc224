/// <reference lib="dom" />
// The console's audit view stays live: it polls the console's JSON endpoint for events newer than the
// newest row and puts them on top. Rows are built with textContent, never markup, so an event's workload
// or reason (untrusted text) cannot become HTML.

interface LiveEvent {
  eventId: string;
  time: string;
  outcome: string;
  workload: string;
  task: string;
  grantId: string;
  grantHref: string;
  actor: string;
  why: string;
}

export function startLiveAudit(root: Document): void {
  const table = root.querySelector<HTMLTableElement>("table[data-live-audit]");
  if (!table) return;
  const endpoint = table.dataset["liveAudit"]!;
  const status = root.getElementById("live-status");
  const body = table.tBodies[0] ?? table.createTBody();
  const seen = new Set<string>([...body.rows].map((r) => r.dataset["eventId"] ?? ""));
  let newest =
    [...body.rows]
      .map((r) => r.dataset["time"] ?? "")
      .sort()
      .at(-1) ?? new Date().toISOString();

  const row = (e: LiveEvent): HTMLTableRowElement => {
    const tr = document.createElement("tr");
    tr.dataset["eventId"] = e.eventId;
    tr.dataset["time"] = e.time;
    tr.className = "new";
    for (const text of [e.time, e.outcome, e.workload, e.task]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    const grant = document.createElement("td");
    if (e.grantId) {
      const a = document.createElement("a");
      a.href = e.grantHref;
      a.textContent = e.grantId;
      grant.append(a);
    }
    tr.append(grant);
    for (const text of [e.actor, e.why]) {
      const td = document.createElement("td");
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  };

  const poll = async () => {
    try {
      const res = await fetch(
        `${endpoint}${endpoint.includes("?") ? "&" : "?"}after=${encodeURIComponent(newest)}`,
        {
          credentials: "same-origin",
          headers: { accept: "application/json" },
        },
      );
      if (!res.ok) throw new Error(String(res.status));
      const { events } = (await res.json()) as { events: LiveEvent[] };
      // Oldest first, each inserted at the top: the newest ends up first.
      for (const e of events) {
        if (seen.has(e.eventId)) continue;
        seen.add(e.eventId);
        body.prepend(row(e));
        if (e.time > newest) newest = e.time;
      }
      root.getElementById("audit-empty")?.remove();
      if (status) status.textContent = `live: checked ${new Date().toLocaleTimeString()}`;
    } catch {
      if (status) status.textContent = "live updates paused (the console did not answer); retrying";
    }
  };
  setInterval(poll, Number(table.dataset["interval"] ?? "2000"));
}
