// Tables every report and console view uses: a caption, typed columns and cells with an optional sort key.
// The markup is complete without script; the browser code only adds sort buttons to `table.sortable`.
import { type Html, type HtmlValue, html } from "./html.ts";

export interface Column {
  label: string;
  /** Numbers sort numerically; everything else by its text (ISO times sort as text). */
  numeric?: boolean;
}

export type Cell = HtmlValue | { value: HtmlValue; sort: string | number };

const isSorted = (c: Cell): c is { value: HtmlValue; sort: string | number } =>
  typeof c === "object" && c !== null && !Array.isArray(c) && "sort" in c;

export function dataTable(options: {
  caption: string;
  columns: Column[];
  rows: Cell[][];
  empty: string;
  id?: string;
}): Html {
  if (options.rows.length === 0) return html`<p class="empty">${options.empty}</p>`;
  return html`<div class="table-wrap"><table class="sortable"${options.id ? html` id="${options.id}"` : ""}>
<caption>${options.caption}</caption>
<thead><tr>${options.columns.map((c) => html`<th scope="col"${c.numeric ? html` class="num"` : ""}>${c.label}</th>`)}</tr></thead>
<tbody>${options.rows.map(
    (r) =>
      html`<tr>${r.map((cell, i) => {
        const num = options.columns[i]?.numeric ? html` class="num"` : "";
        return isSorted(cell)
          ? html`<td${num} data-sort="${String(cell.sort)}">${cell.value}</td>`
          : html`<td${num}>${cell}</td>`;
      })}</tr>`,
  )}</tbody>
</table></div>`;
}
