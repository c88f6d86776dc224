/// <reference lib="dom" />
// Makes every `table.sortable` sortable: each column header becomes a button (so keyboard and screen
// readers reach it), and `aria-sort` says the current order. Without script the table stays as rendered.

function key(cell: Element | undefined, numeric: boolean): string | number {
  const raw = cell?.getAttribute("data-sort") ?? cell?.textContent?.trim() ?? "";
  if (!numeric) return raw;
  const n = Number(raw);
  return Number.isNaN(n) ? Number.NEGATIVE_INFINITY : n;
}

export function enhanceSortableTables(root: ParentNode): void {
  for (const table of root.querySelectorAll<HTMLTableElement>("table.sortable")) {
    if (table.dataset["enhanced"]) continue;
    table.dataset["enhanced"] = "1";
    const headers = [...table.querySelectorAll<HTMLTableCellElement>("thead th")];
    headers.forEach((th, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "sort";
      button.textContent = th.textContent ?? "";
      button.title = `Sort by ${th.textContent ?? ""}`;
      th.textContent = "";
      th.append(button);
      button.addEventListener("click", () => {
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        for (const other of headers) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = th.classList.contains("num");
        const body = table.tBodies[0];
        if (!body) return;
        const rows = [...body.rows];
        rows.sort((a, b) => {
          const x = key(a.cells[index], numeric);
          const y = key(b.cells[index], numeric);
          const c =
            typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
          return ascending ? c : -c;
        });
        body.append(...rows);
      });
    });
  }
}
